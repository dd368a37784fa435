import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { HANDLER_NAMES, type HandlerName } from '../../lib/realtime-stack.js';
import {
  actionsOf,
  listFunctions,
  readTemplateJson,
  type SynthesizedFunction,
  statementsOfRole,
  variablesOf,
} from '../support/synth.js';

const outdir = inject('cdkOutdir');
const template = readTemplateJson(outdir);
const functions = listFunctions(outdir);

const STAGE = 'prod';
const REGION = 'eu-west-1';
const TEST_SECRET = 'bundle-test-secret-0123456789abcdef0123456789abcdef';
const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:123456789012:secret:realtime-jwt-AbCdEf`;
const USER_ID = 'user-123';
const RESULT_MARKER = '@@RESULT@@';

type Event = Record<string, unknown> & { requestContext: Record<string, unknown> };

function fixture(name: string): Event {
  const url = new URL(`../fixtures/events/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as Event;
}

/** One AWS call a bundle made to the mock endpoint, named as its IAM action. */
interface Call {
  readonly action: string;
  readonly path: string;
}

/**
 * Answers DynamoDB (JSON protocol), Secrets Manager and the management API
 * like AWS would with an empty table, recording each call.
 */
class MockAws {
  readonly calls: Call[] = [];
  private readonly server: Server = createServer((request, response) => {
    this.handle(request, response);
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    request.resume();
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const path = request.url ?? '';
      const [service, operation] = target.split('.');
      if (service === 'DynamoDB_20120810' && operation !== undefined) {
        this.calls.push({ action: `dynamodb:${operation}`, path });
        return json(response, 'application/x-amz-json-1.0', DYNAMODB_ANSWERS[operation] ?? {});
      }
      if (service === 'secretsmanager' && operation === 'GetSecretValue') {
        this.calls.push({ action: 'secretsmanager:GetSecretValue', path });
        return json(response, 'application/x-amz-json-1.1', {
          ARN: SECRET_ARN,
          Name: 'realtime-jwt',
          SecretString: TEST_SECRET,
          VersionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
          VersionStages: ['AWSCURRENT'],
          CreatedDate: 1763775000,
        });
      }
      if (path.startsWith(`/${STAGE}/@connections/`)) {
        this.calls.push({ action: 'execute-api:ManageConnections', path });
        response.writeHead(200).end();
        return;
      }
      this.calls.push({ action: `unknown:${request.method} ${target}`, path });
      response.writeHead(404).end();
    });
  }
}

// An empty table, except that updates return a connection that has joined
// `lobby` and a room counter, so request paths run to their end.
const DYNAMODB_ANSWERS: Readonly<Record<string, unknown>> = {
  UpdateItem: { Attributes: { rooms: { SS: ['lobby'] }, seq: { N: '1' } } },
  Query: { Items: [], Count: 0, ScannedCount: 0 },
  GetItem: {},
  PutItem: {},
  DeleteItem: {},
};

function json(response: ServerResponse, contentType: string, body: unknown): void {
  response.writeHead(200, { 'content-type': contentType }).end(JSON.stringify(body));
}

/** What a child process reported. */
type Outcome =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: string };

// Runs in a fresh Node process: imports the bundle, invokes its handler with
// the event read from stdin, and prints the outcome after a marker.
const INVOKE = `
import { pathToFileURL } from 'node:url';
const print = (outcome) => process.stdout.write('\\n${RESULT_MARKER}' + JSON.stringify(outcome) + '\\n');
try {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const { handler } = await import(pathToFileURL(process.argv[1]).href);
  const context = {
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    functionName: 'bundle-test',
    getRemainingTimeInMillis: () => 60_000,
  };
  print({ ok: true, result: (await handler(event, context)) ?? null });
} catch (error) {
  print({ ok: false, error: String(error?.stack ?? error) });
}
`;

function runChild(
  script: string,
  bundle: string,
  env: NodeJS.ProcessEnv,
  stdin = '',
): Promise<Outcome & { readonly output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, bundle], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 15_000,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = output.split('\n').find((text) => text.startsWith(RESULT_MARKER));
      if (line === undefined) {
        resolve({ ok: false, error: `exited with ${code} and no result`, output });
        return;
      }
      resolve({ ...(JSON.parse(line.slice(RESULT_MARKER.length)) as Outcome), output });
    });
    child.stdin.end(stdin);
  });
}

/**
 * The environment the function has in Lambda, its references replaced by
 * local values, plus what Lambda itself provides. Nothing of the test
 * process leaks in.
 */
function lambdaEnv(fn: SynthesizedFunction, endpoint: string): NodeJS.ProcessEnv {
  const variables = variablesOf(template, fn.logicalId);
  const references: Readonly<Record<string, string>> = {
    TABLE_NAME: 'Realtime-DataTable-BUNDLETEST',
    CALLBACK_URL: `${endpoint}/${STAGE}`,
    JWT_SECRET_ARN: SECRET_ARN,
    FANOUT_FUNCTION_NAME: 'Realtime-FanoutHandler-BUNDLETEST',
    PRUNE_FUNCTION_NAME: 'Realtime-PruneHandler-BUNDLETEST',
  };
  const env: NodeJS.ProcessEnv = {
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    AWS_LAMBDA_FUNCTION_NAME: `Realtime-${fn.logicalId}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    TZ: 'UTC',
  };
  for (const [name, value] of Object.entries(variables)) {
    const local = typeof value === 'string' ? value : references[name];
    if (local === undefined) throw new Error(`no local value for ${name} of ${fn.handler}`);
    env[name] = local;
  }
  return env;
}

/** The local stack's way: HS256 secret in plain text instead of Secrets Manager. */
function withPlainSecret(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { JWT_SECRET_ARN: _arn, ...rest } = env;
  return { ...rest, JWT_SECRET: TEST_SECRET };
}

async function token(exp: number): Promise<string> {
  return new SignJWT({ name: 'Ada', rooms: ['lobby', 'doc:*'] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(USER_ID)
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(TEST_SECRET));
}

const ROUTE_BODIES: Readonly<Record<string, (jwt: string) => object>> = {
  join: () => ({ action: 'join', id: 'r-1', room: 'lobby' }),
  leave: () => ({ action: 'leave', id: 'r-2', room: 'lobby' }),
  send: () => ({ action: 'send', id: 'r-3', room: 'lobby', data: { text: 'hello' } }),
  typing: () => ({ action: 'typing', room: 'lobby' }),
  direct: () => ({ action: 'direct', id: 'r-4', to: 'user-456', data: { text: 'hi' } }),
  history: () => ({ action: 'history', id: 'r-5', room: 'lobby', after: 0, limit: 50 }),
  auth: (jwt) => ({ action: 'auth', id: 'r-6', token: jwt }),
  ping: () => ({ action: 'ping', id: 'r-7' }),
  default: () => ({ action: 'dance', id: 'r-8' }),
};

/** The recorded event of a handler, with times moved to now. */
async function eventFor(handler: HandlerName): Promise<Event> {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const jwt = await token(exp);
  const withIdentity = (event: Event): Event => ({
    ...event,
    requestContext: {
      ...event.requestContext,
      authorizer: { ...(event.requestContext.authorizer as object), exp },
    },
  });
  switch (handler) {
    case 'authorizer': {
      const event = fixture('authorizer-request');
      return {
        ...event,
        queryStringParameters: { token: jwt },
        multiValueQueryStringParameters: { token: [jwt] },
      };
    }
    case 'connect':
      return withIdentity(fixture('connect'));
    case 'disconnect':
      return withIdentity(fixture('disconnect'));
    case 'sweep':
      // EventBridge's scheduled event, as the rule delivers it.
      return fixture('scheduled');
    case 'fanout':
      // A share of a large fan-out, as the functions that fan out invoke it with.
      return {
        payload: JSON.stringify({ type: 'message', room: 'lobby', seq: 1, data: 'hi' }),
        targets: [{ connectionId: 'conn-1', userId: 'user-456', name: 'Bo' }],
      } as unknown as Event;
    case 'publish':
      // Another service's Invoke payload: no API Gateway event around it.
      return { room: 'lobby', data: { text: 'hello' } } as unknown as Event;
    case 'presence': {
      // The table's stream, as the event source mapping delivers it, with a current time.
      const event = fixture('dynamodb-stream') as unknown as {
        Records: { dynamodb: { ApproximateCreationDateTime: number } }[];
      };
      for (const record of event.Records) {
        record.dynamodb.ApproximateCreationDateTime = Math.floor(Date.now() / 1000);
      }
      return event as unknown as Event;
    }
    case 'prune':
      // What the prune queue hands over, invoked asynchronously.
      return {
        gone: [{ connectionId: 'conn-1', userId: 'user-456', name: 'Bo', room: 'lobby' }],
      } as unknown as Event;
    default: {
      const body = ROUTE_BODIES[handler];
      if (body === undefined) throw new Error(`no body for ${handler}`);
      const event = withIdentity(fixture('message'));
      return {
        ...event,
        requestContext: {
          ...event.requestContext,
          routeKey: handler === 'default' ? '$default' : handler,
        },
        body: JSON.stringify(body(jwt)),
      };
    }
  }
}

/** The actions the function's role allows. */
function grantedActions(fn: SynthesizedFunction): Set<string> {
  return new Set(
    statementsOfRole(template, fn.roleLogicalId)
      .filter((statement) => statement.Effect === 'Allow')
      .flatMap(actionsOf),
  );
}

const aws = new MockAws();
let endpoint = '';

beforeAll(async () => {
  endpoint = await aws.start();
});

afterAll(async () => {
  await aws.stop();
});

it('finds one bundle per handler in the synthesized assembly', () => {
  expect(functions.map((fn) => fn.handler).sort()).toEqual([...HANDLER_NAMES].sort());
});

describe.each(functions.map((fn) => [fn.handler, fn] as const))('the %s bundle', (handler, fn) => {
  let outcome: Outcome & { readonly output: string };
  let calls: Call[];

  beforeAll(async () => {
    aws.calls.length = 0;
    const env = lambdaEnv(fn, endpoint);
    const verifiesTokens = env.JWT_SECRET_ARN !== undefined;
    outcome = await runChild(
      INVOKE,
      fn.bundle,
      verifiesTokens ? withPlainSecret(env) : env,
      JSON.stringify(await eventFor(handler)),
    );
    calls = [...aws.calls];
  });

  it('loads and returns without throwing', () => {
    expect(outcome, outcome.output).toMatchObject({ ok: true });
  });

  it('returns a plausible result', () => {
    const result = outcome.ok ? outcome.result : undefined;
    if (handler === 'authorizer') {
      expect(result).toMatchObject({
        principalId: USER_ID,
        policyDocument: {
          Statement: [expect.objectContaining({ Effect: 'Allow', Action: 'execute-api:Invoke' })],
        },
        context: expect.objectContaining({ sub: USER_ID }),
      });
      return;
    }
    if (handler === 'sweep') {
      expect(result).toMatchObject({ failed: 0, complete: true });
      return;
    }
    if (handler === 'fanout') {
      expect(result).toEqual({ delivered: 1, failed: 0, gone: [] });
      return;
    }
    if (handler === 'publish') {
      expect(result).toEqual({ ok: true, room: 'lobby', seq: 1, delivered: 0 });
      return;
    }
    if (handler === 'presence') {
      expect(result).toEqual({ batchItemFailures: [] });
      return;
    }
    if (handler === 'prune') {
      expect(result).toEqual({ removed: 0, failed: 0 });
      return;
    }
    expect(result).toMatchObject({ statusCode: 200 });
    const body = (result as { body?: unknown }).body;
    if (body !== undefined) {
      expect(
        JSON.parse(String(body)),
        'an internal error means the handler failed',
      ).not.toMatchObject({ type: 'error', code: 'internal' });
    }
  });

  it('calls only AWS actions its role is granted', () => {
    const granted = grantedActions(fn);
    const ungranted = calls.filter((call) => !granted.has(call.action));
    expect(ungranted).toEqual([]);
  });
});

it('the authorizer bundle reads the HS256 secret from Secrets Manager, as deployed', async () => {
  const fn = functions.find((candidate) => candidate.handler === 'authorizer');
  if (fn === undefined) throw new Error('no authorizer function');
  aws.calls.length = 0;
  const outcome = await runChild(
    INVOKE,
    fn.bundle,
    lambdaEnv(fn, endpoint),
    JSON.stringify(await eventFor('authorizer')),
  );
  expect(outcome.ok ? outcome.result : outcome).toMatchObject({
    policyDocument: { Statement: [expect.objectContaining({ Effect: 'Allow' })] },
  });
  expect(aws.calls.map((call) => call.action)).toContain('secretsmanager:GetSecretValue');
});

it('the authorizer bundle leaves the Secrets Manager client to the Lambda runtime', () => {
  const fn = functions.find((candidate) => candidate.handler === 'authorizer');
  if (fn === undefined) throw new Error('no authorizer function');
  const code = readFileSync(fn.bundle, 'utf8');

  // Imported by name at run time (HS256 with a deployed secret only), not inlined:
  // every connect runs this bundle, and the SDK would triple what it parses.
  expect(code.includes('import("@aws-sdk/client-secrets-manager")')).toBe(true);
  // The bundled client alone is over 300 KB; jose and our code are about 24 KB.
  expect(statSync(fn.bundle).size).toBeLessThan(100_000);
});
