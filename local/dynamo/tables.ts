import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  type KeySchemaElement,
  type Projection,
  type TableDescription,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { localDynamoClient } from './client.js';

/**
 * A table to create, shaped like the properties of CloudFormation's
 * AWS::DynamoDB::Table so the synthesized template's values pass straight through.
 */
export interface TableDefinition {
  /** The template's logical id, for messages. */
  readonly logicalId: string;
  /** The name to create; the template has none, CloudFormation generates it. */
  readonly tableName: string;
  readonly keySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  readonly attributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
  /** CloudFormation `GlobalSecondaryIndexes`; throughput settings are dropped for on-demand. */
  readonly globalSecondaryIndexes?: unknown[];
  /** CloudFormation `LocalSecondaryIndexes`. */
  readonly localSecondaryIndexes?: unknown[];
  /** `TimeToLiveSpecification.AttributeName` when TTL is enabled. */
  readonly ttlAttribute?: string;
}

/** Settings of {@link ensureTables}. */
export interface EnsureTablesOptions {
  /**
   * Milliseconds each table may take to become ACTIVE.
   * @default 30_000
   */
  readonly activeTimeoutMs?: number;
}

/** Why a table could not be set up. */
export type TableSetupCode = 'table_definition_invalid' | 'table_not_active';

/** A table definition is unusable, or the table never became ACTIVE. */
export class TableSetupError extends Error {
  override readonly name = 'TableSetupError';

  constructor(
    readonly code: TableSetupCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const POLL_INTERVAL_MS = 50;

/**
 * Creates each missing table on demand (PAY_PER_REQUEST), waits until it is
 * ACTIVE and enables its TTL. Existing tables, as in a persisted DYNAMODB_DIR,
 * are left as they are.
 */
export async function ensureTables(
  endpoint: string,
  tables: readonly TableDefinition[],
  options: EnsureTablesOptions = {},
): Promise<void> {
  const client = localDynamoClient(endpoint);
  try {
    for (const table of tables) {
      await ensureTable(client, table, options.activeTimeoutMs ?? 30_000);
    }
  } finally {
    client.destroy();
  }
}

async function ensureTable(
  client: DynamoDBClient,
  table: TableDefinition,
  timeoutMs: number,
): Promise<void> {
  const created =
    (await describeTable(client, table.tableName)) === undefined && (await create(client, table));
  await untilActive(client, table, timeoutMs);
  if (created && table.ttlAttribute !== undefined) {
    await enableTtl(client, table.tableName, table.ttlAttribute);
  }
}

/** True when this call created the table, false when someone else just did. */
async function create(client: DynamoDBClient, table: TableDefinition): Promise<boolean> {
  const input: CreateTableCommandInput = {
    TableName: table.tableName,
    KeySchema: table.keySchema,
    AttributeDefinitions: table.attributeDefinitions,
    BillingMode: 'PAY_PER_REQUEST',
  };
  if (table.globalSecondaryIndexes?.length) {
    input.GlobalSecondaryIndexes = table.globalSecondaryIndexes.map((index) =>
      indexOf(table, index),
    );
  }
  if (table.localSecondaryIndexes?.length) {
    input.LocalSecondaryIndexes = table.localSecondaryIndexes.map((index) => indexOf(table, index));
  }
  try {
    await client.send(new CreateTableCommand(input));
    return true;
  } catch (error) {
    if (hasName(error, 'ResourceInUseException')) return false;
    throw error;
  }
}

/**
 * The parts of a CloudFormation index that CreateTable takes on demand: throughput
 * and CloudFormation-only settings (contributor insights, warm throughput) are dropped.
 */
function indexOf(
  table: TableDefinition,
  index: unknown,
): { IndexName: string; KeySchema: KeySchemaElement[]; Projection: Projection } {
  const { IndexName, KeySchema, Projection } = (index ?? {}) as Record<string, unknown>;
  if (
    typeof IndexName !== 'string' ||
    !Array.isArray(KeySchema) ||
    typeof Projection !== 'object' ||
    Projection === null
  ) {
    throw new TableSetupError(
      'table_definition_invalid',
      `${table.logicalId}: an index needs IndexName, KeySchema and Projection: ${JSON.stringify(index)}`,
    );
  }
  return { IndexName, KeySchema, Projection };
}

async function describeTable(
  client: DynamoDBClient,
  tableName: string,
): Promise<TableDescription | undefined> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return Table;
  } catch (error) {
    if (hasName(error, 'ResourceNotFoundException')) return undefined;
    throw error;
  }
}

async function untilActive(
  client: DynamoDBClient,
  table: TableDefinition,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const description = await describeTable(client, table.tableName);
    const indexes = description?.GlobalSecondaryIndexes ?? [];
    if (
      description?.TableStatus === 'ACTIVE' &&
      indexes.every((index) => index.IndexStatus === 'ACTIVE')
    ) {
      return;
    }
    if (Date.now() >= deadline) {
      throw new TableSetupError(
        'table_not_active',
        `${table.logicalId} (${table.tableName}) is not ACTIVE after ${timeoutMs} ms: ` +
          `status ${description?.TableStatus ?? 'missing'}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

async function enableTtl(
  client: DynamoDBClient,
  tableName: string,
  attribute: string,
): Promise<void> {
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
      }),
    );
  } catch (error) {
    // dynalite does not implement UpdateTimeToLive. Without it items never expire,
    // which is harmless: the adapters treat an item past its TTL as absent on read
    // (`isLive` in lambdas/adapters/table-keys.ts), as real DynamoDB deletes lazily too.
    if (hasName(error, 'UnknownOperationException')) return;
    throw error;
  }
}

/** Checked by name, not class: the engines' errors reach the SDK as plain service exceptions. */
function hasName(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}
