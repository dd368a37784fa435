import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient as DocumentClient,
  type DynamoDBDocumentClient,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { stringifyJson } from '../../protocol/json.js';
import type { MessageFrame } from '../../protocol/messages.js';
import { connectionSk, userPk } from '../adapters/table-keys.js';
import { identityFromContext } from '../domain/identity.js';
import { required } from '../shared/config.js';

/**
 * THE BENCHMARK'S REFERENCE, NOT PART OF THE PRODUCT. The fan-out most
 * tutorials and AWS's own sample use (aws-samples/simple-websockets-chat-app,
 * `sendmessage/app.js`), ported as is: Scan the whole table for the room's
 * connections, then post to every one at once with an unbounded `Promise.all`.
 * Its read units grow with every connection in the table, not only the room's.
 * The stack deploys it only with `REFERENCE_HANDLER=true`, as the `refsend`
 * route, so `npm run bench` can measure both over the same data.
 *
 * Kept faithful on purpose, flaws included: the sample's 410 check reads
 * `error.statusCode`, which SDK v3 errors do not have, so its cleanup of gone
 * connections never runs and a gone connection fails the whole request.
 */
export async function scanBroadcast(
  documents: DynamoDBDocumentClient,
  api: ApiGatewayManagementApiClient,
  tableName: string,
  frame: MessageFrame,
): Promise<number> {
  const connections: { connectionId: string; userId: string }[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    // The sample reads one page only; this pages through, so it misses no one.
    const page = await documents.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'begins_with(sk, :conn) AND contains(#rooms, :room)',
        ExpressionAttributeNames: { '#rooms': 'rooms' },
        ExpressionAttributeValues: { ':conn': 'conn#', ':room': frame.room },
        ProjectionExpression: 'connectionId, userId',
        ExclusiveStartKey: startKey,
      }),
    );
    connections.push(...((page.Items ?? []) as typeof connections));
    startKey = page.LastEvaluatedKey;
  } while (startKey);

  const payload = stringifyJson(frame);
  await Promise.all(
    connections.map(async ({ connectionId, userId }) => {
      try {
        await api.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: payload }));
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 410) {
          await documents.send(
            new DeleteCommand({
              TableName: tableName,
              Key: { pk: userPk(userId), sk: connectionSk(connectionId) },
            }),
          );
        } else {
          throw error;
        }
      }
    }),
  );
  return connections.length;
}

/** The reference's route event: only what it reads. */
export interface ReferenceEvent {
  readonly body?: string | null;
  readonly requestContext: { readonly authorizer?: unknown };
}

/** Builds the `refsend` handler from its environment, as the sample does at module scope. */
export function createReferenceHandler(env: Readonly<Record<string, string | undefined>>) {
  const tableName = required(env, 'TABLE_NAME');
  const documents = DocumentClient.from(new DynamoDBClient({}));
  const api = new ApiGatewayManagementApiClient({ endpoint: required(env, 'CALLBACK_URL') });
  return async (event: ReferenceEvent) => {
    const body = JSON.parse(event.body ?? '{}') as { room?: unknown; data?: unknown };
    const identity = identityFromContext(event.requestContext.authorizer);
    if (typeof body.room !== 'string' || identity === undefined) {
      return { statusCode: 400, body: 'Bad request' };
    }
    const frame: MessageFrame = {
      type: 'message',
      room: body.room,
      // The reference numbers nothing: seq 0 marks its frames in the bench.
      seq: 0,
      from: { userId: identity.userId, name: identity.name },
      data: body.data ?? null,
      ts: Date.now(),
    };
    await scanBroadcast(documents, api, tableName, frame);
    return { statusCode: 200, body: 'Data sent.' };
  };
}
