import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ListTablesCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDynamoClient } from '../../../local/dynamo/client.js';
import {
  type DynamoEngine,
  ENGINE_NAMES,
  type EngineName,
  javaVersion,
  MIN_JAVA_VERSION,
  startDynamo,
} from '../../../local/dynamo/engine.js';
import { freePort } from '../../../local/dynamo/free-port.js';
import { ensureTables } from '../../../local/dynamo/tables.js';
import { realtimeTable } from '../../support/realtime-table.js';

const java = await javaVersion();
const javaMissing = java === undefined || java < MIN_JAVA_VERSION;
// CI must exercise both engines: there, a missing Java fails the suite through
// startDynamo's JavaUnavailableError instead of skipping it.
const skipDynamoDbLocal = javaMissing && !process.env.CI;
if (skipDynamoDbLocal) {
  console.warn(
    [
      '',
      '#'.repeat(72),
      `#  SKIPPING the dynamodb-local engine tests: Java ${MIN_JAVA_VERSION}+ not found`,
      `#  ('java -version' gave ${java ?? 'nothing'}). Install Java ${MIN_JAVA_VERSION}+ to run them;`,
      '#  with CI set, this is a failure, not a skip.',
      '#'.repeat(72),
      '',
    ].join('\n'),
  );
}

function documentClient(endpoint: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(localDynamoClient(endpoint));
}

function portOf(endpoint: string): number {
  return Number(new URL(endpoint).port);
}

/** Resolves true when a server can listen on `port` on every interface. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

async function occupy(port: number): Promise<{ close(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, resolve);
  });
  return { close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/**
 * Bound on a test that starts an engine of its own (twice, for the restart):
 * DynamoDB Local is a JVM, whose start took 4 s alone and over 10 s beside
 * another test file here; 20 s was once too little for two.
 */
const OWN_ENGINE_MS = 90_000;

describe.skipIf(skipDynamoDbLocal)("DynamoDB Local's temporary files", () => {
  it(
    'are removed when it stops, and when its process exits without stopping it',
    async () => {
      const folder = await mkdtemp(join(tmpdir(), 'dynamo-tmp-'));
      const env = { ...process.env, TMPDIR: folder };
      // Started in a process of its own, whose TMPDIR is the folder watched
      // here; it reports what the JVM wrote there, stops or exits as told.
      const run = (ending: 'stop' | 'exit') =>
        promisify(execFile)(
          process.execPath,
          [
            '--import',
            'tsx',
            '--input-type=module',
            '-e',
            `
            import { readdirSync } from 'node:fs';
            import { join } from 'node:path';
            import { startDynamo } from './local/dynamo/engine.js';
            const dynamo = await startDynamo({ engine: 'dynamodb-local' });
            const files = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
              entry.isDirectory() ? files(join(dir, entry.name)) : [entry.name]);
            console.log(JSON.stringify(files(process.env.TMPDIR)));
            if (${JSON.stringify(ending)} === 'stop') await dynamo.stop();
            process.exit(0);
            `,
          ],
          { cwd: process.cwd(), env },
        );
      try {
        for (const ending of ['stop', 'exit'] as const) {
          const { stdout } = await run(ending);
          const whileRunning = JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]') as string[];
          // What it writes there: its SQLite library, unpacked at each start.
          expect(whileRunning.some((name) => name.includes('sqlite'))).toBe(true);
          // tsx keeps its own cache there, ours to remove.
          const left = (await readdir(folder)).filter((name) => !name.startsWith('tsx-'));
          expect(left).toEqual([]);
        }
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    },
    OWN_ENGINE_MS,
  );
});

for (const engine of ENGINE_NAMES) {
  describe.skipIf(engine === 'dynamodb-local' && skipDynamoDbLocal)(`the ${engine} engine`, () => {
    const options = { engine } satisfies { engine: EngineName };
    let dynamo: DynamoEngine;
    let ddb: DynamoDBDocumentClient;
    let tableCount = 0;
    /** A fresh realtime table for each test, so tests never see each other's items. */
    async function freshTable(): Promise<string> {
      const name = `realtime-${++tableCount}`;
      await ensureTables(dynamo.endpoint, [realtimeTable(name)]);
      return name;
    }

    beforeAll(async () => {
      const started = Date.now();
      dynamo = await startDynamo(options);
      console.info(`${engine} started in ${Date.now() - started} ms`);
      ddb = documentClient(dynamo.endpoint);
    });

    afterAll(async () => {
      ddb?.destroy();
      await dynamo?.stop();
    });

    it('serves on a free port of 127.0.0.1 when given port 0', async () => {
      expect(dynamo.name).toBe(engine);
      expect(dynamo.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(portOf(dynamo.endpoint)).toBeGreaterThan(0);
      const tables = await ddb.send(new ListTablesCommand({}));
      expect(tables.TableNames).toBeInstanceOf(Array);
    });

    it('creates an ACTIVE on-demand pk/sk table', async () => {
      const name = await freshTable();
      const { Table } = await ddb.send(new DescribeTableCommand({ TableName: name }));
      expect(Table?.TableStatus).toBe('ACTIVE');
      expect(Table?.KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    });

    it(
      engine === 'dynalite'
        ? 'leaves TTL disabled, as dynalite has no UpdateTimeToLive'
        : 'enables TTL on expiresAt',
      async () => {
        const name = await freshTable();
        const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: name }));
        expect(ttl.TimeToLiveDescription).toEqual(
          engine === 'dynalite'
            ? { TimeToLiveStatus: 'DISABLED' }
            : { TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' },
        );
      },
    );

    it('round-trips put, get and a key-condition query', async () => {
      const TableName = await freshTable();
      for (const sk of ['msg#001', 'msg#002', 'msg#003']) {
        await ddb.send(new PutCommand({ TableName, Item: { pk: 'room#r1', sk, body: sk } }));
      }
      await ddb.send(new PutCommand({ TableName, Item: { pk: 'room#r2', sk: 'msg#001' } }));

      const got = await ddb.send(
        new GetCommand({ TableName, Key: { pk: 'room#r1', sk: 'msg#002' }, ConsistentRead: true }),
      );
      expect(got.Item).toEqual({ pk: 'room#r1', sk: 'msg#002', body: 'msg#002' });

      const queried = await ddb.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk AND sk > :after',
          ExpressionAttributeValues: { ':pk': 'room#r1', ':after': 'msg#001' },
          ScanIndexForward: false,
        }),
      );
      expect(queried.Items?.map((item) => item.sk)).toEqual(['msg#003', 'msg#002']);
    });

    it('raises ConditionalCheckFailedException on a failed condition and keeps the item', async () => {
      const TableName = await freshTable();
      const Key = { pk: 'user#u1', sk: 'conn#c1' };
      await ddb.send(new PutCommand({ TableName, Item: { ...Key, tat: 5 } }));

      const error = await errorOf(
        ddb.send(
          new UpdateCommand({
            TableName,
            Key,
            UpdateExpression: 'SET tat = :next',
            ConditionExpression: 'attribute_exists(pk) AND tat <= :now',
            ExpressionAttributeValues: { ':next': 9, ':now': 4 },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );

      expect(error).toMatchObject({ name: 'ConditionalCheckFailedException' });
      const got = await ddb.send(new GetCommand({ TableName, Key, ConsistentRead: true }));
      expect(got.Item).toEqual({ ...Key, tat: 5 });
    });

    it(
      engine === 'dynalite'
        ? 'returns no old item on a failed condition, so adapters must read it'
        : 'returns the old item on a failed condition when asked to',
      async () => {
        const TableName = await freshTable();
        const Key = { pk: 'user#u1', sk: 'conn#c1' };
        await ddb.send(new PutCommand({ TableName, Item: { ...Key, tat: 5 } }));

        const error = await errorOf(
          ddb.send(
            new UpdateCommand({
              TableName,
              Key,
              UpdateExpression: 'SET tat = :next',
              ConditionExpression: 'tat <= :now',
              ExpressionAttributeValues: { ':next': 9, ':now': 4 },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        );

        // The document client does not unmarshall the item carried by the error.
        expect((error as { Item?: unknown }).Item).toEqual(
          engine === 'dynalite'
            ? undefined
            : { pk: { S: Key.pk }, sk: { S: Key.sk }, tat: { N: '5' } },
        );
      },
    );

    it('adds and deletes string set members, answering with the old set', async () => {
      const TableName = await freshTable();
      const Key = { pk: 'room#r1', sk: 'members' };
      const change = async (action: 'ADD' | 'DELETE', members: string[]) => {
        const result = await ddb.send(
          new UpdateCommand({
            TableName,
            Key,
            UpdateExpression: `${action} conns :members`,
            ExpressionAttributeValues: { ':members': new Set(members) },
            ReturnValues: 'UPDATED_OLD',
          }),
        );
        return result.Attributes?.conns as Set<string> | undefined;
      };

      expect(await change('ADD', ['c1', 'c2'])).toBeUndefined();
      expect(await change('ADD', ['c2', 'c3'])).toEqual(new Set(['c1', 'c2']));
      expect(await change('DELETE', ['c1', 'c4'])).toEqual(new Set(['c1', 'c2', 'c3']));
      expect(await change('DELETE', ['c2', 'c3'])).toEqual(new Set(['c2', 'c3']));
      // DynamoDB drops a set emptied by DELETE: no empty set is ever stored.
      const got = await ddb.send(new GetCommand({ TableName, Key, ConsistentRead: true }));
      expect(got.Item).toEqual(Key);
    });

    it('leaves an existing table and its items alone when run again', async () => {
      const TableName = await freshTable();
      const Item = { pk: 'user#u1', sk: 'conn#c1', expiresAt: 1 };
      await ddb.send(new PutCommand({ TableName, Item }));
      const before = await ddb.send(new DescribeTableCommand({ TableName }));

      await ensureTables(dynamo.endpoint, [realtimeTable(TableName)]);

      const after = await ddb.send(new DescribeTableCommand({ TableName }));
      expect(after.Table?.CreationDateTime).toEqual(before.Table?.CreationDateTime);
      const got = await ddb.send(new GetCommand({ TableName, Key: { pk: Item.pk, sk: Item.sk } }));
      expect(got.Item).toEqual(Item);
    });

    it('creates global and local secondary indexes from CloudFormation properties', async () => {
      const TableName = `indexed-${engine}`;
      await ensureTables(dynamo.endpoint, [
        {
          ...realtimeTable(TableName),
          attributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
            { AttributeName: 'userId', AttributeType: 'S' },
            { AttributeName: 'at', AttributeType: 'N' },
          ],
          globalSecondaryIndexes: [
            {
              IndexName: 'byUser',
              KeySchema: [{ AttributeName: 'userId', KeyType: 'HASH' }],
              Projection: { ProjectionType: 'KEYS_ONLY' },
              // Must be dropped: CreateTable refuses throughput on an on-demand table.
              ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
              ContributorInsightsSpecification: { Enabled: false },
            },
          ],
          localSecondaryIndexes: [
            {
              IndexName: 'byTime',
              KeySchema: [
                { AttributeName: 'pk', KeyType: 'HASH' },
                { AttributeName: 'at', KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'ALL' },
            },
          ],
        },
      ]);
      await ddb.send(
        new PutCommand({ TableName, Item: { pk: 'p', sk: 's', userId: 'u1', at: 7 } }),
      );

      const byUser = await ddb.send(
        new QueryCommand({
          TableName,
          IndexName: 'byUser',
          KeyConditionExpression: 'userId = :u',
          ExpressionAttributeValues: { ':u': 'u1' },
        }),
      );
      expect(byUser.Items).toEqual([{ pk: 'p', sk: 's', userId: 'u1' }]);
      const byTime = await ddb.send(
        new QueryCommand({
          TableName,
          IndexName: 'byTime',
          KeyConditionExpression: 'pk = :p AND #at > :t',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':p': 'p', ':t': 1 },
        }),
      );
      expect(byTime.Items).toEqual([{ pk: 'p', sk: 's', userId: 'u1', at: 7 }]);
    });

    it(
      'serves on the port it is given and frees it on stop',
      async () => {
        const port = await freePort();
        const own = await startDynamo({ ...options, port });
        const client = documentClient(own.endpoint);
        try {
          expect(own.endpoint).toBe(`http://127.0.0.1:${port}`);
          // A kept-alive connection must not hold the port open past stop().
          await client.send(new ListTablesCommand({}));
          expect(await canListen(port)).toBe(false);

          await own.stop();

          expect(await canListen(port)).toBe(true);
        } finally {
          client.destroy();
          await own.stop();
        }
      },
      OWN_ENGINE_MS,
    );

    it(
      'refuses a port that is taken, naming it',
      async () => {
        const port = await freePort();
        const taken = await occupy(port);
        try {
          const error = await errorOf(startDynamo({ ...options, port }));
          expect(error).toMatchObject({ name: 'DynamoStartError', code: 'listen_failed' });
          expect(String((error as Error).message)).toContain(String(port));
        } finally {
          await taken.close();
        }
      },
      OWN_ENGINE_MS,
    );

    it(
      'keeps tables and items in a data directory across a restart',
      async () => {
        const dir = await mkdtemp(join(tmpdir(), `dynamo-${engine}-`));
        const TableName = 'persisted';
        const Item = { pk: 'room#r1', sk: 'msg#001', body: 'hello', tags: new Set(['a']) };
        try {
          const first = await startDynamo({ ...options, dir });
          const writer = documentClient(first.endpoint);
          await ensureTables(first.endpoint, [realtimeTable(TableName)]);
          await writer.send(new PutCommand({ TableName, Item }));
          writer.destroy();
          await first.stop();

          const second = await startDynamo({ ...options, dir });
          const reader = documentClient(second.endpoint);
          try {
            await ensureTables(second.endpoint, [realtimeTable(TableName)]);
            const got = await reader.send(
              new GetCommand({
                TableName,
                Key: { pk: Item.pk, sk: Item.sk },
                ConsistentRead: true,
              }),
            );
            expect(got.Item).toEqual(Item);
          } finally {
            reader.destroy();
            await second.stop();
          }
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
      OWN_ENGINE_MS,
    );
  });
}
