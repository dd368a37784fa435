import {
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { stringifyJson } from '../../protocol/json.js';
import type { MessageFrame } from '../../protocol/messages.js';
import type { MessageStore } from '../domain/ports.js';
import { isLive, LAST_MESSAGE_SK, messageSk, ROOM_HEAD_SK, roomPk } from './table-keys.js';

interface MessageItem {
  readonly frame: string;
  readonly expiresAt: number;
}

/**
 * Message history in the single table. `data` may nest deeper than DynamoDB's
 * 32 map levels, so each message is stored as its frame's JSON text.
 */
export class DynamoMessageStore implements MessageStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async nextSeq(room: string): Promise<number> {
    const result = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: roomPk(room), sk: ROOM_HEAD_SK },
        UpdateExpression: 'ADD seq :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const seq = result.Attributes?.seq;
    if (typeof seq !== 'number') throw new Error('The seq counter returned no number');
    return seq;
  }

  async put(message: MessageFrame, expiresAt: number): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: roomPk(message.room),
          sk: messageSk(message.seq),
          frame: stringifyJson(message),
          expiresAt,
        },
      }),
    );
  }

  async after(room: string, after: number, limit: number, now: number) {
    const messages: MessageFrame[] = [];
    let startKey: Record<string, unknown> | undefined;
    // One more than asked tells whether more remain; expired items are skipped
    // (TTL deletes them only eventually), so keep reading until enough are live.
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': roomPk(room),
            ':from': messageSk(after + 1),
            ':to': LAST_MESSAGE_SK,
          },
          ConsistentRead: true,
          Limit: limit + 1 - messages.length,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of (page.Items ?? []) as MessageItem[]) {
        if (isLive(item, now)) messages.push(JSON.parse(item.frame) as MessageFrame);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey && messages.length <= limit);
    const hasMore = messages.length > limit;
    return { messages: messages.slice(0, limit), hasMore };
  }
}
