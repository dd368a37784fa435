import { describe, expect, it } from 'vitest';
import { dynamoAccessRequests } from '../../../local/iam/dynamo-access.js';

const arn = (table: string) => `arn:aws:dynamodb:us-east-1:000000000000:table/${table}`;
const requests = (operation: string, body: unknown) =>
  dynamoAccessRequests(`DynamoDB_20120810.${operation}`, body, arn);

describe('the IAM actions and resources of a DynamoDB request', () => {
  it('is the operation on the table for item operations', () => {
    expect(requests('PutItem', { TableName: 'Data', Item: {} })).toEqual([
      { action: 'dynamodb:PutItem', resource: arn('Data') },
    ]);
    expect(requests('UpdateItem', { TableName: 'Data' })).toEqual([
      { action: 'dynamodb:UpdateItem', resource: arn('Data') },
    ]);
  });

  it('is the operation on the index for a Query or Scan of an index', () => {
    expect(requests('Query', { TableName: 'Data', IndexName: 'bySweepShard' })).toEqual([
      { action: 'dynamodb:Query', resource: `${arn('Data')}/index/bySweepShard` },
    ]);
    expect(requests('Scan', { TableName: 'Data', IndexName: 'byUser' })).toEqual([
      { action: 'dynamodb:Scan', resource: `${arn('Data')}/index/byUser` },
    ]);
    expect(requests('Query', { TableName: 'Data' })).toEqual([
      { action: 'dynamodb:Query', resource: arn('Data') },
    ]);
  });

  it('takes a table given by ARN as it is', () => {
    expect(requests('GetItem', { TableName: arn('Other') })).toEqual([
      { action: 'dynamodb:GetItem', resource: arn('Other') },
    ]);
  });

  it('is the batch action on every table of a batch', () => {
    expect(requests('BatchWriteItem', { RequestItems: { A: [], B: [] } })).toEqual([
      { action: 'dynamodb:BatchWriteItem', resource: arn('A') },
      { action: 'dynamodb:BatchWriteItem', resource: arn('B') },
    ]);
    expect(requests('BatchGetItem', { RequestItems: { A: {} } })).toEqual([
      { action: 'dynamodb:BatchGetItem', resource: arn('A') },
    ]);
  });

  it("is each item's own action for a transaction, which has no IAM action of its own", () => {
    expect(
      requests('TransactWriteItems', {
        TransactItems: [
          { Put: { TableName: 'A' } },
          { Update: { TableName: 'B' } },
          { Delete: { TableName: 'A' } },
          { ConditionCheck: { TableName: 'C' } },
        ],
      }),
    ).toEqual([
      { action: 'dynamodb:PutItem', resource: arn('A') },
      { action: 'dynamodb:UpdateItem', resource: arn('B') },
      { action: 'dynamodb:DeleteItem', resource: arn('A') },
      { action: 'dynamodb:ConditionCheckItem', resource: arn('C') },
    ]);
    expect(requests('TransactGetItems', { TransactItems: [{ Get: { TableName: 'A' } }] })).toEqual([
      { action: 'dynamodb:GetItem', resource: arn('A') },
    ]);
  });

  it('is the operation on * when the request names no table', () => {
    expect(requests('ListTables', {})).toEqual([{ action: 'dynamodb:ListTables', resource: '*' }]);
    expect(requests('PutItem', undefined)).toEqual([{ action: 'dynamodb:PutItem', resource: '*' }]);
  });
});
