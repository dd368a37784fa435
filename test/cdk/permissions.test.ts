import { Capture, Match } from 'aws-cdk-lib/assertions';
import type { CfnApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, it } from 'vitest';
import { HANDLER_NAMES, type HandlerName } from '../../lib/realtime-stack.js';
import {
  actionsOf,
  functionIdOf,
  logicalIdOf,
  POSTING_HANDLERS,
  type PolicyStatement,
  renderIntrinsic,
  roleIdOf,
  statementsOf,
  statementsOfRole,
  synthStack,
  templateJson,
} from '../support/synth.js';

const { stack, template } = synthStack();
const json = templateJson(template);
const tableId = logicalIdOf(stack, stack.realtime.table.node.defaultChild as CfnTable);
const apiId = logicalIdOf(stack, stack.realtime.webSocket.api.node.defaultChild as CfnApi);

/** What each handler calls, restated from the design rather than read from the stack. */
const DYNAMODB_ACTIONS: Readonly<Record<HandlerName, readonly string[]>> = {
  authorizer: [],
  default: [],
  connect: ['Query', 'PutItem'],
  // Its own connection and memberships; the stream announces the departures.
  disconnect: ['DeleteItem', 'UpdateItem'],
  join: ['GetItem', 'UpdateItem', 'Query'],
  leave: ['GetItem', 'UpdateItem'],
  // Gone connections go to the prune function: no request path deletes another's.
  send: ['GetItem', 'UpdateItem', 'Query', 'PutItem'],
  typing: ['GetItem', 'UpdateItem', 'Query'],
  direct: ['GetItem', 'UpdateItem', 'Query'],
  history: ['GetItem', 'UpdateItem', 'Query'],
  auth: ['GetItem', 'UpdateItem'],
  ping: ['GetItem', 'UpdateItem'],
  // Query twice: on the table (memberships) and on the sweep index.
  sweep: ['DeleteItem', 'UpdateItem', 'Query', 'Query'],
  fanout: [],
  // send's and direct's work without their admission's GetItem.
  publish: ['UpdateItem', 'Query', 'PutItem'],
  // The room's members, the claim on the gone connections it meets, and the
  // table's stream through its event source mapping.
  presence: [
    'UpdateItem',
    'Query',
    'DescribeStream',
    'GetRecords',
    'GetShardIterator',
    'ListStreams',
  ],
  prune: ['DeleteItem', 'UpdateItem'],
};

const POSTING = POSTING_HANDLERS;
/** The functions that fan out to rooms, so they may hand shares of a large one to the workers. */
const FANNING_OUT = ['send', 'typing', 'publish', 'presence'];
/** The functions whose posts may find connections gone, which they hand to the prune function. */
const HANDING_OFF = ['send', 'typing', 'direct', 'publish', 'presence'];
const VERIFYING = ['authorizer', 'auth'];

function statementsOfHandler(handler: HandlerName): PolicyStatement[] {
  return statementsOfRole(json, roleIdOf(stack, handler));
}

function handlersAllowed(action: string): HandlerName[] {
  return HANDLER_NAMES.filter((handler) =>
    statementsOfHandler(handler).some((statement) => actionsOf(statement).includes(action)),
  );
}

/** Every statement of every identity policy in the template, inline ones included. */
function allStatements(): PolicyStatement[] {
  return Object.values(json.Resources).flatMap((resource) => {
    const properties = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::Policy') return statementsOf(resource);
    if (resource.Type === 'AWS::IAM::ManagedPolicy') {
      return statementsOf({ ...resource, Type: 'AWS::IAM::Policy' });
    }
    if (resource.Type === 'AWS::IAM::Role') {
      const inline = (properties.Policies ?? []) as { PolicyDocument: { Statement: [] } }[];
      return inline.flatMap((policy) => policy.PolicyDocument.Statement);
    }
    return [];
  });
}

describe('permissions', () => {
  it.each(HANDLER_NAMES)('grants %s exactly the DynamoDB actions it uses', (handler) => {
    const granted = statementsOfHandler(handler)
      .flatMap(actionsOf)
      .filter((action) => action.startsWith('dynamodb:'));
    expect(granted.sort()).toEqual(DYNAMODB_ACTIONS[handler].map((a) => `dynamodb:${a}`).sort());
  });

  it('grants DynamoDB actions on the table alone, Query on the sweep index to the sweeper only, and the stream to presence only', () => {
    const table = { 'Fn::GetAtt': [tableId, 'Arn'] };
    const sweepIndex = { 'Fn::Join': ['', [table, '/index/bySweepShard']] };
    const stream = { 'Fn::GetAtt': [tableId, 'StreamArn'] };
    const dynamoStatements = (statements: PolicyStatement[]) =>
      statements.filter((statement) => actionsOf(statement).some((a) => a.startsWith('dynamodb:')));
    for (const handler of HANDLER_NAMES) {
      const statements = dynamoStatements(statementsOfHandler(handler));
      const elsewhere = statements.filter(
        (s) => JSON.stringify(s.Resource) !== JSON.stringify(table),
      );
      if (handler === 'sweep') {
        expect(elsewhere).toEqual([
          expect.objectContaining({ Action: 'dynamodb:Query', Resource: sweepIndex }),
        ]);
      } else if (handler === 'presence') {
        // ListStreams supports no resource-level permission; it reads no data.
        expect(elsewhere).toEqual([
          expect.objectContaining({ Action: 'dynamodb:ListStreams', Resource: '*' }),
          expect.objectContaining({
            Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
            Resource: stream,
          }),
        ]);
      } else {
        expect(elsewhere, handler).toEqual([]);
      }
    }
  });

  it('allows dynamodb:Scan to no one, not even through a wildcard', () => {
    const actions = allStatements()
      .filter((statement) => statement.Effect === 'Allow')
      .flatMap(actionsOf);
    expect(actions.length).toBeGreaterThan(0);
    expect(actions).not.toContain('dynamodb:Scan');
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });

  it('lets only the functions that post manage connections', () => {
    expect(handlersAllowed('execute-api:ManageConnections').sort()).toEqual([...POSTING].sort());
  });

  it("scopes ManageConnections to the @connections of the stage's API", () => {
    const resource = new Capture();
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'execute-api:ManageConnections', Resource: resource }),
        ]),
      },
    });
    const arns = new Set<string>();
    do {
      arns.add(renderIntrinsic(resource.asObject()));
    } while (resource.next());
    expect([...arns]).toEqual([
      `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${${apiId}}/prod/*/@connections/*`,
    ]);
  });

  it('lets the functions that fan out invoke the workers, those that hand off invoke prune, and nothing else', () => {
    const arnOf = (handler: HandlerName) => ({
      'Fn::GetAtt': [functionIdOf(stack, handler), 'Arn'],
    });
    for (const handler of HANDLER_NAMES) {
      const invoking = statementsOfHandler(handler).filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith('lambda:')),
      );
      const expected = [
        ...(FANNING_OUT.includes(handler) ? [arnOf('fanout')] : []),
        ...(HANDING_OFF.includes(handler) ? [arnOf('prune')] : []),
      ];
      expect(invoking.flatMap(actionsOf), handler).toEqual(
        expected.length === 0 ? [] : ['lambda:InvokeFunction'],
      );
      const resources = invoking.flatMap((statement) =>
        Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource],
      );
      expect(resources, handler).toEqual(expected);
    }
    expect(handlersAllowed('lambda:InvokeFunction').sort()).toEqual(
      [...new Set([...FANNING_OUT, ...HANDING_OFF])].sort(),
    );
  });

  it('tells the functions that fan out which function the workers are, and those that hand off which prunes', () => {
    for (const handler of HANDLER_NAMES) {
      const variables = (json.Resources[functionIdOf(stack, handler)]?.Properties?.Environment ??
        {}) as { Variables?: Record<string, unknown> };
      expect(variables.Variables?.FANOUT_FUNCTION_NAME, handler).toEqual(
        FANNING_OUT.includes(handler) ? { Ref: functionIdOf(stack, 'fanout') } : undefined,
      );
      expect(variables.Variables?.PRUNE_FUNCTION_NAME, handler).toEqual(
        HANDING_OFF.includes(handler) ? { Ref: functionIdOf(stack, 'prune') } : undefined,
      );
    }
  });

  it('lets only the token verifiers read the JWT secret', () => {
    expect(handlersAllowed('secretsmanager:GetSecretValue').sort()).toEqual(VERIFYING.sort());
  });

  it.each(HANDLER_NAMES)('lets %s write to its own log group and nowhere else', (handler) => {
    const fn = json.Resources[functionIdOf(stack, handler)]?.Properties ?? {};
    const logGroup = (fn.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    expect(json.Resources[roleIdOf(stack, handler)]?.Properties?.Policies).toEqual([
      {
        PolicyName: 'Logs',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: { 'Fn::GetAtt': [logGroup, 'Arn'] },
            },
          ],
        },
      },
    ]);
  });

  it('attaches no AWS managed policy to any function role', () => {
    for (const handler of HANDLER_NAMES) {
      const role = json.Resources[roleIdOf(stack, handler)];
      expect(role?.Type, handler).toBe('AWS::IAM::Role');
      expect(role?.Properties, handler).not.toHaveProperty('ManagedPolicyArns');
    }
  });

  it('gives the functions that neither post nor touch the table no policy at all', () => {
    expect(statementsOfHandler('default')).toEqual([]);
  });
});
