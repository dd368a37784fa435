import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { expect, it } from 'vitest';
import {
  CONNECTION_TTL_S,
  connectionSk,
  epochSeconds,
  memberSk,
  roomPk,
  sweepShardKey,
  sweepShardOf,
  userPk,
} from '../../lambdas/adapters/table-keys.js';
import { localDynamoClient } from '../../local/dynamo/client.js';
import { scanTable } from '../security/support/table-scan.js';
import { describeOnEachEngine, useLocalStack, user } from './support/local-stack-fixture.js';

/**
 * The scheduled sweeper through the local stack: the EventBridge rule's
 * function, run by `runSchedules` as its schedule would run it, against the
 * gateway's management API and the real table.
 */
describeOnEachEngine('the sweeper', (engine) => {
  const local = useLocalStack(engine);

  /** Writes what `$connect` and `join` leave behind for a connection, as if its `$disconnect` never came. */
  async function writeOrphan(userId: string, connectionId: string, room: string, ageMs: number) {
    // A request was admitted (`tat`) only if it is older than the connect grace:
    // a younger record may be one whose `$connect` is still running.
    const opened = ageMs > 30_000;
    const tableName = local.stack.model.tables[0]?.logicalId ?? '';
    const client = DynamoDBDocumentClient.from(localDynamoClient(local.stack.dynamoEndpoint));
    const connectedAt = Date.now() - ageMs;
    const expiresAt = epochSeconds(connectedAt) + CONNECTION_TTL_S;
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: userPk(userId),
            sk: connectionSk(connectionId),
            connectionId,
            userId,
            name: userId,
            connectedAt,
            expiresAt,
            sweepShard: sweepShardKey(sweepShardOf(connectionId)),
            rooms: new Set([room]),
            ...(opened ? { tat: connectedAt * 1000 } : {}),
          },
        }),
      );
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: roomPk(room), sk: memberSk(userId) },
          UpdateExpression: 'ADD conns :conn SET userId = :user, #name = :user, expiresAt = :exp',
          ExpressionAttributeNames: { '#name': 'name' },
          ExpressionAttributeValues: {
            ':conn': new Set([connectionId]),
            ':user': userId,
            ':exp': expiresAt,
          },
        }),
      );
    } finally {
      client.destroy();
    }
    return tableName;
  }

  /** Moves a live connection's record back in time, past the connect grace. */
  async function backdate(tableName: string, userId: string, connectionId: string) {
    const client = DynamoDBDocumentClient.from(localDynamoClient(local.stack.dynamoEndpoint));
    try {
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: userPk(userId), sk: connectionSk(connectionId) },
          UpdateExpression: 'SET connectedAt = :then',
          ExpressionAttributeValues: { ':then': Date.now() - 5 * 60_000 },
        }),
      );
    } finally {
      client.destroy();
    }
  }

  it('prunes a connection API Gateway no longer knows, announces its leave, and keeps live and young ones', async () => {
    const room = 'sweep-room';
    const observer = await local.joined('sweep-observer', room);
    const tableName = await writeOrphan('sweep-ghost', 'GhostConn0001=', room, 5 * 60_000);
    // Young: its `$connect` may still be running, so the sweeper must not judge it.
    await writeOrphan('sweep-newcomer', 'YoungConn0001=', room, 5_000);
    await backdate(tableName, 'sweep-observer', local.connectionIdOf(observer));

    const [outcome] = await local.stack.runSchedules();

    expect(outcome).toMatchObject({
      ok: true,
      result: { checked: 2, pruned: 1, failed: 0, complete: true },
    });
    expect(await observer.nextPresence({ left: 'sweep-ghost' })).toEqual({
      type: 'presence',
      room,
      joined: [],
      left: [user('sweep-ghost')],
    });
    // The presence frame's fan-out meets the young record's connection too (410),
    // and hands it to the prune function: judge the table once that has run.
    await local.settled();
    const items = await scanTable(local.stack.dynamoEndpoint, tableName);
    const connections = items
      .filter((item) => String(item.sk).startsWith('conn#'))
      .map((item) => item.connectionId)
      .sort();
    expect(connections).toEqual([local.connectionIdOf(observer), 'YoungConn0001='].sort());
    const members = items
      // Leaving empties a membership's connection set; the record itself expires by TTL.
      .filter((item) => item.pk === roomPk(room) && String(item.sk).startsWith('member#'))
      .filter((item) => (item.conns as Set<string> | undefined)?.size)
      .map((item) => item.userId)
      .sort();
    expect(members).toEqual(['sweep-newcomer', 'sweep-observer']);
    expect((await observer.request({ action: 'ping' })).type).toBe('pong');
  });
});
