import type { AccessRequest } from './access-check.js';

/**
 * What IAM authorizes for one DynamoDB request (its `X-Amz-Target` operation
 * and JSON body): the operation's action on the table, or on the index for a
 * Query or Scan with `IndexName`; for batches the batch action on each table;
 * for transactions the action of each item's operation on its table (IAM has
 * no TransactWriteItems action).
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/api-permissions-reference.html
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
 */

/** The item operations of TransactWriteItems and TransactGetItems, with their IAM actions. */
const TRANSACT_ACTIONS: Readonly<Record<string, string>> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Get: 'dynamodb:GetItem',
};

/**
 * @param target the `X-Amz-Target` header, e.g. `DynamoDB_20120810.PutItem`
 * @param body the request's JSON
 * @param tableArn the ARN of a table named in a request (a name, or already an ARN)
 */
export function dynamoAccessRequests(
  target: string,
  body: unknown,
  tableArn: (table: string) => string,
): AccessRequest[] {
  const operation = target.slice(target.indexOf('.') + 1);
  const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const arnOf = (table: unknown) =>
    typeof table === 'string' && table.startsWith('arn:') ? table : tableArn(String(table));

  switch (operation) {
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys(asRecord(input.RequestItems)).map((table) => ({
        action: `dynamodb:${operation}`,
        resource: arnOf(table),
      }));
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const items = Array.isArray(input.TransactItems) ? input.TransactItems : [];
      return items.flatMap((item) =>
        Object.entries(asRecord(item)).flatMap(([kind, detail]) => {
          const action = TRANSACT_ACTIONS[kind];
          const table = asRecord(detail).TableName;
          return action === undefined || table === undefined
            ? []
            : [{ action, resource: arnOf(table) }];
        }),
      );
    }
    default: {
      const action = `dynamodb:${operation}`;
      if (input.TableName === undefined) return [{ action, resource: '*' }];
      const table = arnOf(input.TableName);
      const index = input.IndexName;
      return [{ action, resource: typeof index === 'string' ? `${table}/index/${index}` : table }];
    }
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}
