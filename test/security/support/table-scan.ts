import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { localDynamoClient } from '../../../local/dynamo/client.js';

/** An item as the document client returns it (string sets as `Set`). */
export type Item = Record<string, unknown>;

/**
 * Every item of a table of a local DynamoDB, read with a consistent Scan.
 * For tests only: the backend itself never scans.
 */
export async function scanTable(endpoint: string, tableName: string): Promise<Item[]> {
  const client = DynamoDBDocumentClient.from(localDynamoClient(endpoint));
  try {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await client.send(
        new ScanCommand({
          TableName: tableName,
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  } finally {
    client.destroy();
  }
}
