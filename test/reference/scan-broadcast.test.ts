import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { scanBroadcast } from '../../lambdas/reference/scan-broadcast.js';
import type { MessageFrame } from '../../protocol/messages.js';

const documents = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  }),
);
const api = new ApiGatewayManagementApiClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  endpoint: 'https://abc.execute-api.us-east-1.amazonaws.com/prod',
});
const ddb = mockClient(documents);
const management = mockClient(api);

const FRAME: MessageFrame = {
  type: 'message',
  room: 'lobby',
  seq: 0,
  from: { userId: 'u1', name: 'Ada' },
  data: 'hi',
  ts: 1,
};

beforeEach(() => {
  ddb.reset();
  management.reset();
});

describe('the reference scanBroadcast (benchmark only)', () => {
  it('scans every page of the table for the room and posts to all of them', async () => {
    ddb
      .on(ScanCommand)
      .resolvesOnce({
        Items: [{ connectionId: 'c1', userId: 'u1' }],
        LastEvaluatedKey: { pk: 'x', sk: 'y' },
      })
      .resolvesOnce({ Items: [{ connectionId: 'c2', userId: 'u2' }] });
    management.on(PostToConnectionCommand).resolves({});

    await expect(scanBroadcast(documents, api, 'table', FRAME)).resolves.toBe(2);

    expect(ddb.commandCalls(ScanCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'table',
      FilterExpression: 'begins_with(sk, :conn) AND contains(#rooms, :room)',
    });
    expect(
      management.commandCalls(PostToConnectionCommand).map((c) => c.args[0].input.ConnectionId),
    ).toEqual(['c1', 'c2']);
  });

  it('fails the whole send on a gone connection and deletes nothing, as the sample does on SDK v3', async () => {
    ddb.on(ScanCommand).resolves({ Items: [{ connectionId: 'c1', userId: 'u1' }] });
    management
      .on(PostToConnectionCommand)
      .rejects(new GoneException({ message: 'gone', $metadata: { httpStatusCode: 410 } }));

    await expect(scanBroadcast(documents, api, 'table', FRAME)).rejects.toBeInstanceOf(
      GoneException,
    );
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
  });
});
