import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { localDynamoClient } from '../../local/dynamo/client.js';
import { type DynamoEngine, type EngineName, startDynamo } from '../../local/dynamo/engine.js';
import { ensureTables, type TableDefinition } from '../../local/dynamo/tables.js';

/**
 * The single table as the synthesized template describes it: `pk`/`sk`
 * strings, and TTL on `expiresAt` unless `ttl` is false.
 */
export function realtimeTable(tableName: string, ttl = true): TableDefinition {
  return {
    logicalId: 'RealtimeTable',
    tableName,
    keySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    attributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    ...(ttl ? { ttlAttribute: 'expiresAt' } : {}),
  };
}

/** The table an adapter test runs against, once its engine is up. */
export interface EngineTable {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/**
 * Starts `engine` with the realtime table before the enclosing describe's
 * tests, and stops it after: adapters tested against a real engine, not a mock.
 */
export function useEngineTable(engine: EngineName, tableName = 'realtime'): () => EngineTable {
  let dynamo: DynamoEngine | undefined;
  let client: DynamoDBDocumentClient | undefined;
  beforeAll(async () => {
    dynamo = await startDynamo({ engine });
    // No TTL: the tests write records on a fixed clock long past, which an engine must not expire.
    await ensureTables(dynamo.endpoint, [realtimeTable(tableName, false)]);
    client = DynamoDBDocumentClient.from(localDynamoClient(dynamo.endpoint), {
      marshallOptions: { removeUndefinedValues: true },
    });
  });
  afterAll(async () => {
    client?.destroy();
    await dynamo?.stop();
  });
  return () => {
    if (client === undefined) throw new Error(`${engine} is not started yet`);
    return { client, tableName };
  };
}
