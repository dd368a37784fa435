import { describe, expect, inject, it } from 'vitest';
import { startLocalStack } from '../../../local/local-stack.js';
import { useLocalStack } from '../../integration/support/local-stack-fixture.js';
import { eventually } from '../../integration/support/ws-client.js';
import {
  type EditedAssembly,
  editedAssembly,
  functionId,
  removeAction,
  removeStatements,
  statementsOf,
  type Template,
} from '../support/edited-assembly.js';

/**
 * The local stack enforces each function's role, and API Gateway's
 * permission to invoke it, as synthesized: with one grant or permission
 * taken out of the template, exactly the call it allowed is refused (and
 * logged, naming the caller, action and resource), and the
 * request that made it answers as it does when that call fails in AWS.
 * With the template unchanged nothing is refused: every integration test
 * runs with IAM enforced, and its fixture fails on any AccessDenied line.
 */

const TABLE = /arn:aws:dynamodb:us-east-1:000000000000:table\/DataTable[0-9A-F]+/;

/** A local stack on dynalite whose template was edited by `edit`. */
function stackWith(edit: (template: Template) => void) {
  let edited: EditedAssembly | undefined;
  return useLocalStack('dynalite', {
    assembly: () => {
      edited = editedAssembly(inject('cdkOutdir'), edit);
      return edited.outdir;
    },
    afterStop: () => edited?.remove(),
  });
}

/** The stack's AccessDenied lines. */
function denials(logs: readonly string[]): string[] {
  return logs.filter((line) => line.startsWith('AccessDenied: '));
}

/** The one AccessDenied line of `logs`; fails when there is none or more than one. */
function onlyDenial(logs: readonly string[]): string {
  const lines = denials(logs);
  expect(lines).toHaveLength(1);
  return lines[0] ?? '';
}

let rooms = 0;
const fresh = (name: string) => `${name}-${++rooms}`;

describe('without dynamodb:PutItem for the send function', () => {
  const local = stackWith((template) => removeAction(template, 'SendHandler', 'dynamodb:PutItem'));

  it('refuses its Put of the message, and the send answers internal', async () => {
    const room = fresh('lobby');
    const alice = await local.joined('alice', room);

    expect(await alice.request({ action: 'send', room, data: 'hello' })).toMatchObject({
      type: 'error',
      code: 'internal',
    });
    const line = onlyDenial(local.logs);
    expect(line).toMatch(
      /^AccessDenied: SendHandler \(role SendHandlerRole\w+\) may not dynamodb:PutItem on /,
    );
    expect(line).toMatch(TABLE);
    // Joining (GetItem, Query, UpdateItem by other functions) was not refused.
    expect(await alice.request({ action: 'history', room })).toMatchObject({
      type: 'history',
      messages: [],
    });
  });
});

describe('without the index for the sweeper', () => {
  const local = stackWith((template) =>
    removeStatements(template, 'SweepHandler', (statement) =>
      JSON.stringify(statement.Resource).includes('/index/'),
    ),
  );

  it('refuses its Query of the index, and the scheduled sweep fails', async () => {
    const [sweep] = await local.stack.runSchedules();

    expect(sweep).toMatchObject({ ok: false, error: { name: 'AccessDeniedException' } });
    const line = onlyDenial(local.logs);
    expect(line).toMatch(
      /^AccessDenied: SweepHandler \(role SweepHandlerRole\w+\) may not dynamodb:Query on /,
    );
    expect(line).toMatch(/table\/DataTable[0-9A-F]+\/index\/bySweepShard/);
  });
});

describe('without execute-api:ManageConnections for the direct function', () => {
  const local = stackWith((template) =>
    removeAction(template, 'DirectHandler', 'execute-api:ManageConnections'),
  );

  it('refuses its post to the recipient, who gets nothing, and the direct reports no delivery', async () => {
    const alice = await local.connect('alice');
    const bob = await local.connect('bob');

    expect(await alice.request({ action: 'direct', to: 'bob', data: 'psst' })).toMatchObject({
      type: 'ack',
      delivered: 0,
    });
    await local.settled();
    await bob.expectNothingReceived();
    const line = onlyDenial(local.logs);
    expect(line).toMatch(
      /^AccessDenied: DirectHandler \(role DirectHandlerRole\w+\) may not execute-api:ManageConnections on arn:aws:execute-api:us-east-1:000000000000:local\/prod\/POST\/@connections\/\S+/,
    );
  });
});

describe('without lambda:InvokeFunction on the fan-out workers for the send function', () => {
  const local = stackWith((template) => {
    const send = template.Resources[functionId(template, 'SendHandler')];
    const environment = send?.Properties?.Environment as { Variables: Record<string, unknown> };
    const variables = environment.Variables;
    // A share of one member: a send to a room of three hands two shares to workers.
    variables.FAN_OUT_CHUNK_SIZE = '1';
    const fanout = functionId(template, 'FanoutHandler');
    for (const statement of statementsOf(template, 'SendHandler')) {
      if (statement.Action !== 'lambda:InvokeFunction') continue;
      statement.Resource = [statement.Resource]
        .flat()
        .filter((resource) => !JSON.stringify(resource).includes(fanout));
    }
  });

  it('refuses the Invoke of a worker, and the send delivers from the send function instead', async () => {
    const room = fresh('big');
    const alice = await local.joined('alice', room);
    const bob = await local.joined('bob', room);
    const carol = await local.joined('carol', room);
    await local.settledPresence(alice, bob, carol);

    expect(await alice.request({ action: 'send', room, data: 'hi all' })).toMatchObject({
      type: 'ack',
    });
    for (const member of [alice, bob, carol]) {
      expect(await member.nextOfType('message')).toMatchObject({ data: 'hi all' });
    }
    const lines = await eventually(
      () => (denials(local.logs).length > 0 ? denials(local.logs) : undefined),
      5_000,
      'the refused Invoke',
    );
    expect(new Set(lines.map((line) => line.replace(/ on \S+.*$/, '')))).toEqual(
      new Set([
        expect.stringMatching(
          /^AccessDenied: SendHandler \(role SendHandlerRole\w+\) may not lambda:InvokeFunction$/,
        ),
      ]),
    );
    expect(lines[0]).toMatch(/function:FanoutHandler[0-9A-F]+/);
  });
});

describe('without secretsmanager:GetSecretValue for the authorizer', () => {
  const local = stackWith((template) =>
    removeAction(template, 'AuthorizerHandler', 'secretsmanager:GetSecretValue'),
  );

  it('refuses its read of the HS256 secret, and the connect fails with 500 as a failed authorizer does', async () => {
    const token = await local.token({ sub: 'alice' });

    expect(await local.refusal(token)).toBe(500);
    const line = onlyDenial(local.logs);
    expect(line).toMatch(
      /^AccessDenied: AuthorizerHandler \(role AuthorizerHandlerRole\w+\) may not secretsmanager:GetSecretValue on arn:aws:secretsmanager:us-east-1:000000000000:secret:JwtSecret[0-9A-F]+: /,
    );
  });
});

/** Removes the AWS::Lambda::Permission of function `name` whose source ARN, as JSON, holds `part`. */
function removePermission(template: Template, name: string, part: string): void {
  const fn = functionId(template, name);
  const found = Object.entries(template.Resources).filter(([, resource]) => {
    const properties = resource.Properties ?? {};
    return (
      resource.Type === 'AWS::Lambda::Permission' &&
      JSON.stringify(properties.FunctionName).includes(fn) &&
      JSON.stringify(properties.SourceArn).includes(part)
    );
  });
  if (found.length !== 1) throw new Error(`${name} has ${found.length} permissions for ${part}`);
  for (const [id] of found) delete template.Resources[id];
}

/** The line of API Gateway refused `fn` (a construct id) for `source` (a pattern after the API id). */
const INVOKE_DENIED = (fn: string, source: string) =>
  new RegExp(
    `^AccessDenied: apigateway\\.amazonaws\\.com may not lambda:InvokeFunction on arn:aws:lambda:us-east-1:000000000000:function:${fn}[0-9A-F]+ \\(source arn:aws:execute-api:us-east-1:000000000000:local/${source}\\): `,
  );

describe("without API Gateway's permission to invoke the send function", () => {
  const local = stackWith((template) => removePermission(template, 'SendHandler', '/*send"'));

  it('refuses to invoke it for a send, which gets the integration failure, and other routes still run', async () => {
    const room = fresh('lobby');
    const alice = await local.joined('alice', room);

    alice.send({ action: 'send', room, data: 'hello' });

    expect(await alice.next((frame) => frame.message !== undefined)).toEqual({
      message: 'Internal server error',
      connectionId: local.connectionIdOf(alice),
      requestId: expect.any(String),
    });
    const line = onlyDenial(local.logs);
    expect(line).toMatch(INVOKE_DENIED('SendHandler', 'prod/send'));
    expect(await alice.request({ action: 'history', room })).toMatchObject({
      type: 'history',
      messages: [],
    });
  });
});

describe("without API Gateway's permission to invoke the authorizer", () => {
  const local = stackWith((template) =>
    removePermission(template, 'AuthorizerHandler', '/authorizers/"'),
  );

  it('refuses to invoke it, and the connect fails with 500', async () => {
    const token = await local.token({ sub: 'alice' });

    expect(await local.refusal(token)).toBe(500);
    const line = onlyDenial(local.logs);
    expect(line).toMatch(
      INVOKE_DENIED('AuthorizerHandler', 'authorizers/WebSocketApiAuthorizer[0-9A-F]+'),
    );
  });
});

describe('without dynamodb:GetRecords on the stream for the presence function', () => {
  it('refuses to start, as Lambda refuses to create the event source mapping and the deploy fails', async () => {
    const edited = editedAssembly(inject('cdkOutdir'), (template) =>
      removeAction(template, 'PresenceHandler', 'dynamodb:GetRecords'),
    );
    try {
      await expect(
        startLocalStack({ assembly: edited.outdir, env: {}, log: () => {} }),
      ).rejects.toThrow(
        /Cannot access stream arn:aws:dynamodb:\S+\/stream\/\S+\. Please ensure the role can perform the GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions.*role PresenceHandlerRole\w+ of PresenceHandler does not allow dynamodb:GetRecords/,
      );
    } finally {
      edited.remove();
    }
  });
});
