import { describe, expect, it } from 'vitest';
import {
  AccessCheck,
  accessKeyIdOf,
  accessKeyIdOfRequest,
} from '../../../local/iam/access-check.js';
import type { FunctionRole } from '../../../local/iam/function-roles.js';

const ACCOUNT = '000000000000';
const TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/Data`;
const API = `arn:aws:execute-api:us-east-1:${ACCOUNT}:local/prod`;

function role(statements: Record<string, unknown>[]): FunctionRole {
  return {
    roleId: 'SendRole',
    roleArn: `arn:aws:iam::${ACCOUNT}:role/SendRole`,
    policies: [{ name: 'Default', document: { Version: '2012-10-17', Statement: statements } }],
  };
}

function checkFor(statements: Record<string, unknown>[]) {
  const access = new AccessCheck(
    new Map([['Send1', role(statements)]]),
    new Map([['Send1', 'SendHandler']]),
    ACCOUNT,
  );
  const caller = access.callerOf(accessKeyIdOf('Send1'));
  if (caller === undefined) throw new Error('no caller');
  return { access, caller };
}

describe('checking a function’s call against its role', () => {
  it('knows a function by the access key id its instances sign with', () => {
    const { access } = checkFor([]);
    const header = `AWS4-HMAC-SHA256 Credential=${accessKeyIdOf('Send1')}/20261203/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=abc`;

    expect(access.callerOf(accessKeyIdOfRequest(header))?.functionName).toBe('SendHandler');
    expect(access.callerOf(accessKeyIdOfRequest(undefined))).toBeUndefined();
    expect(access.callerOf('AKIAIOSFODNN7EXAMPLE')).toBeUndefined();
    expect(accessKeyIdOf('Send1')).toMatch(/^ASIA[A-Z2-7]{16}$/);
  });

  it('allows what a statement allows, on its resources only', () => {
    const { access, caller } = checkFor([
      { Effect: 'Allow', Action: ['dynamodb:PutItem', 'dynamodb:Query'], Resource: TABLE },
    ]);

    expect(access.check(caller, [{ action: 'dynamodb:PutItem', resource: TABLE }])).toBeUndefined();
    expect(
      access.check(caller, [{ action: 'dynamodb:Query', resource: `${TABLE}/index/byUser` }]),
    ).toMatchObject({ action: 'dynamodb:Query', explicit: false });
    expect(
      access.check(caller, [{ action: 'dynamodb:DeleteItem', resource: TABLE }]),
    ).toMatchObject({
      functionName: 'SendHandler',
      roleId: 'SendRole',
      message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/SendRole/Send1 is not authorized to perform: dynamodb:DeleteItem on resource: ${TABLE} because no identity-based policy allows the dynamodb:DeleteItem action`,
    });
  });

  it('matches wildcards in actions and resources as IAM does', () => {
    const { access, caller } = checkFor([
      {
        Effect: 'Allow',
        Action: 'execute-api:ManageConnections',
        Resource: `${API}/*/@connections/*`,
      },
    ]);

    const post = {
      action: 'execute-api:ManageConnections',
      resource: `${API}/POST/@connections/abc=`,
    };
    const otherStage = {
      action: 'execute-api:ManageConnections',
      resource: `arn:aws:execute-api:us-east-1:${ACCOUNT}:local/dev/POST/@connections/abc=`,
    };
    expect(access.check(caller, [post])).toBeUndefined();
    expect(access.check(caller, [otherStage])).toMatchObject({ resource: otherStage.resource });
  });

  it('refuses what a Deny statement names even when another allows it', () => {
    const { access, caller } = checkFor([
      { Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' },
      { Effect: 'Deny', Action: 'dynamodb:DeleteItem', Resource: TABLE },
    ]);

    expect(access.check(caller, [{ action: 'dynamodb:GetItem', resource: TABLE }])).toBeUndefined();
    expect(
      access.check(caller, [{ action: 'dynamodb:DeleteItem', resource: TABLE }]),
    ).toMatchObject({ explicit: true, message: expect.stringContaining('with an explicit deny') });
  });

  it('evaluates conditions against the request context', () => {
    const { access, caller } = checkFor([
      {
        Effect: 'Allow',
        Action: 'dynamodb:GetItem',
        Resource: TABLE,
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);

    expect(access.check(caller, [{ action: 'dynamodb:GetItem', resource: TABLE }])).toMatchObject({
      action: 'dynamodb:GetItem',
    });
  });

  it('refuses the first request of several that is not allowed', () => {
    const { access, caller } = checkFor([
      { Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: TABLE },
    ]);
    const other = 'arn:aws:dynamodb:us-east-1:000000000000:table/Other';

    expect(
      access.check(caller, [
        { action: 'dynamodb:PutItem', resource: TABLE },
        { action: 'dynamodb:PutItem', resource: other },
      ]),
    ).toMatchObject({ resource: other });
  });
});
