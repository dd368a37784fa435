import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STACK_ID, synthesizeApp } from '../lib/realtime-app.js';
import {
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  readStackModel,
  resolveEnvironment,
  type StackModel,
} from './assembly/stack-model.js';
import { CLIENT_BUNDLE_PATH, clientBundle } from './demo/serve-client.js';
import { handleDevToken, LOCAL_DEVELOPMENT_SECRET } from './dev/dev-token.js';
import { type DynamoEngine, type EngineName, startDynamo } from './dynamo/engine.js';
import { ensureTables } from './dynamo/tables.js';
import { type DynamoFaultProxy, startDynamoFaultProxy } from './faults/dynamo-fault-proxy.js';
import { FaultInjector, type FaultOptions, type FaultReport } from './faults/fault-injector.js';
import type { Invocation, Invoker } from './gateway/invoker.js';
import { handleManagementRequest } from './gateway/management-api.js';
import type { RequestReporter } from './gateway/request-report.js';
import {
  API_GATEWAY_LIMITS,
  type GatewayLimits,
  WebSocketGateway,
} from './gateway/websocket-gateway.js';
import {
  AccessCheck,
  type AccessDenial,
  type AccessRequest,
  accessKeyIdOf,
  accessKeyIdOfRequest,
} from './iam/access-check.js';
import { type DynamoIamProxy, startDynamoIamProxy } from './iam/dynamo-iam-proxy.js';
import {
  API_GATEWAY_PRINCIPAL,
  type InvokeDenial,
  InvokePermissions,
} from './iam/invoke-permission.js';
import { refuseUnreadableStreams } from './iam/stream-access.js';
import { ASYNC_RETRY_DELAYS_MS, AsyncInvocations } from './lambda/async-invocations.js';
import { functionIdResolver, handleInvokeRequest } from './lambda/invoke-api.js';
import { type DynamoMeterProxy, startDynamoMeterProxy } from './metering/dynamo-meter-proxy.js';
import type { Meter } from './metering/meter.js';
import { FunctionPool } from './runtime/function-pool.js';
import { scheduledEvent, startSchedules } from './scheduler/schedules.js';
import { handleSecretsManagerRequest, type LocalSecret } from './secrets/secrets-manager-api.js';
import { stackSecrets } from './secrets/stack-secrets.js';
import { type LocalStreams, startLocalStreams } from './streams/local-streams.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Waits between the retries of Lambda's asynchronous work. */
export interface RetryDelays {
  /** Before the first, second, ... retry of a failed asynchronous invocation; the last repeats. */
  readonly asyncInvocationMs: readonly number[];
  /** Before the first retry of a failed stream batch; it doubles after each retry. */
  readonly streamBatchMs: number;
  /** The longest wait between the retries of a stream batch. */
  readonly streamBatchMaxMs: number;
}

/**
 * Lambda's waits: about one minute, then two, between the attempts of an
 * asynchronous invocation (invocation-async-error-handling.html). For stream
 * batches AWS documents no schedule; the local stack backs off from 1 s to 30 s.
 */
export const LAMBDA_RETRY_DELAYS: RetryDelays = {
  asyncInvocationMs: ASYNC_RETRY_DELAYS_MS,
  streamBatchMs: 1_000,
  streamBatchMaxMs: 30_000,
};

/** How to start the local stack. */
export interface LocalStackOptions {
  /** Port on 127.0.0.1; 0 picks a free one. @default 0 */
  readonly port?: number;
  /**
   * Configuration, with the PROTOCOL.md section 7 names, plus `JWT_SECRET`
   * (the local HS256 secret, which every secret of the local Secrets Manager
   * holds; defaults to the documented development secret).
   * @default process.env
   */
  readonly env?: Env;
  /** A cloud assembly already synthesized with bundles; synthesized afresh when absent. */
  readonly assembly?: string;
  /**
   * The stack of the assembly to run: its template is `<stackId>.template.json`.
   * @default STACK_ID, the standalone app's
   */
  readonly stackId?: string;
  /**
   * The construct path of the one API to run when the stack holds several
   * (`RealtimeApi`s): only the resources under it run.
   * @default - the stack's only WebSocket API and everything else in it
   */
  readonly apiPath?: string;
  readonly engine?: EngineName;
  /** Where DynamoDB keeps its state; in memory when absent. */
  readonly dynamoDir?: string;
  /** API Gateway's limits, shortened by tests. */
  readonly limits?: Partial<GatewayLimits>;
  /** Where the stack's and the functions' log lines go. @default console.log */
  readonly log?: (line: string) => void;
  /**
   * Receives a report of each request a client made (handshake, frame,
   * close) once the gateway answered it: the CLI's console prints one line each.
   * @default - none
   */
  readonly requests?: RequestReporter;
  /**
   * Runs the template's scheduled rules (the sweeper) on their schedule, as
   * EventBridge would. Tests leave it off and call `runSchedules` instead.
   * @default false
   */
  readonly schedules?: boolean;
  /**
   * Counts the functions' DynamoDB calls with their consumed capacity,
   * management API calls and Lambda invocations (the bench and call-count test).
   * @default - nothing is counted
   */
  readonly meter?: Meter;
  /**
   * Faults to inject (tests): DynamoDB and management API errors, lost `$disconnect`s.
   * @default - none
   */
  readonly faults?: FaultOptions;
  /**
   * Waits between retries of failed asynchronous invocations and stream
   * batches, shortened by tests.
   * @default LAMBDA_RETRY_DELAYS
   */
  readonly retryDelays?: Partial<RetryDelays>;
}

/** A running local stack. */
export interface LocalStack {
  /** `ws://127.0.0.1:<port>/<stage>`. */
  readonly url: string;
  /** `http://127.0.0.1:<port>`: demo page, dev tokens, management API. */
  readonly httpUrl: string;
  /** The management API's endpoint (what the functions' CALLBACK_URL points at). */
  readonly callbackUrl: string;
  /**
   * Lambda's Invoke API (what the functions' AWS_ENDPOINT_URL_LAMBDA points
   * at): functions are named by logical id, ARN or construct id (`PublishHandler`).
   */
  readonly lambdaEndpoint: string;
  readonly port: number;
  readonly engine: EngineName;
  /**
   * The embedded DynamoDB itself. The functions reach it through the stream
   * capture (and the meter and fault proxies when set), so writes made here
   * (tests' fixtures, the bench's setup) produce no stream records.
   */
  readonly dynamoEndpoint: string;
  /** The HS256 secret the local stack verifies tokens with. */
  readonly secret: string;
  readonly model: StackModel;
  readonly gateway: WebSocketGateway;
  /** The faults injected so far (all zero without the `faults` option). */
  readonly faults: FaultReport;
  /** Invokes every scheduled rule's function once now, as its schedule would. */
  runSchedules(): Promise<Invocation[]>;
  /**
   * Resolves once Lambda's asynchronous work is done: every stream record
   * captured so far delivered to its event source mappings' functions or
   * skipped, every asynchronous invocation succeeded or discarded, and all
   * that this work set off in turn. Await it after the writes or `Event`
   * invocations you wait for were answered; with retries that never end
   * (MaximumRetryAttempts -1), bound the wait.
   */
  streamsIdle(): Promise<void>;
  /**
   * Re-reads a new assembly and reloads every function (watch mode); tables,
   * their streams and the event source mappings stay as they were started.
   */
  reload(assembly?: string): Promise<void>;
  /**
   * Serves each function of `bundles` (logical id to a rebuilt bundle file)
   * from its new bundle: invocations in flight finish on the old code, the
   * next ones start on the new.
   */
  reloadFunctions(bundles: ReadonlyMap<string, string>): Promise<void>;
  /** The assembly the functions' bundles were last read from. */
  readonly assembly: string;
  /**
   * Closes sockets with 1001, stops functions and DynamoDB, frees the port.
   * `disconnects: false` closes them without invoking `$disconnect`.
   */
  stop(options?: { readonly disconnects?: boolean }): Promise<void>;
}

/** Options of the configuration that are local-only and never reach the synthesis. */
const LOCAL_ONLY = ['JWT_SECRET'];

/**
 * Starts the stack that `cdk deploy` would create, on this machine: the
 * synthesized template's API, functions and tables, run with an embedded
 * DynamoDB and an API Gateway emulation on one port of 127.0.0.1.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(line));
  const secret = env.JWT_SECRET || LOCAL_DEVELOPMENT_SECRET;
  const limits = { ...API_GATEWAY_LIMITS, ...options.limits };
  const retryDelays = { ...LAMBDA_RETRY_DELAYS, ...options.retryDelays };
  const stackId = options.stackId ?? STACK_ID;

  const synthesize = () => {
    const outdir = mkdtempSync(join(tmpdir(), 'realtime-local-'));
    synthesizeApp(outdir, { env: synthesisEnv(env) });
    return outdir;
  };
  // An assembly this stack synthesized itself is its own to delete.
  let ownAssembly = options.assembly === undefined ? synthesize() : undefined;
  const removeOwnAssembly = () => {
    if (ownAssembly !== undefined) rmSync(ownAssembly, { recursive: true, force: true });
  };
  let model: StackModel;
  // What the local Secrets Manager serves; re-read on a reload.
  let secrets: LocalSecret[];
  let currentAssembly = options.assembly ?? ownAssembly ?? '';
  try {
    model = readStackModel(options.assembly ?? ownAssembly ?? '', stackId, options.apiPath);
    // `cdk deploy` would fail on it: Lambda refuses to create the mapping.
    refuseUnreadableStreams(model);
    secrets = stackSecrets(model, secret);
  } catch (error) {
    removeOwnAssembly();
    throw error;
  }
  for (const notice of model.notices) log(notice);

  const dynamo: DynamoEngine = await startDynamo({
    ...(options.engine === undefined ? {} : { engine: options.engine }),
    ...(options.dynamoDir === undefined ? {} : { dir: options.dynamoDir }),
  });
  const pools = new Map<string, FunctionPool>();
  let server: Server | undefined;
  const faults = new FaultInjector(options.faults);
  let streams: LocalStreams | undefined;
  let faultProxy: DynamoFaultProxy | undefined;
  let meterProxy: DynamoMeterProxy | undefined;
  let iamProxy: DynamoIamProxy | undefined;
  // What each function's role allows, as synthesized; re-read on a reload.
  let access = accessCheckOf(model);
  // Who may invoke each function, as its AWS::Lambda::Permissions say; re-read on a reload.
  let permissions = invokePermissionsOf(model);
  const denied = (denial: AccessDenial) => log(deniedLine(denial));
  /** The denial of a request signed by one of the functions, logged; undefined when allowed or not a function's. */
  const checkAccess = (request: IncomingMessage, requests: readonly AccessRequest[]) => {
    const caller = access.callerOf(accessKeyIdOfRequest(request.headers.authorization));
    const denial = caller === undefined ? undefined : access.check(caller, requests);
    if (denial !== undefined) denied(denial);
    return denial;
  };
  let gateway: WebSocketGateway | undefined;
  let stopSchedules = () => {};
  const meter = options.meter;
  const invoke: Invoker = async (functionId, event) => {
    const pool = pools.get(functionId);
    if (pool === undefined) throw new Error(`no local function ${functionId}`);
    const outcome = await pool.invoke(event);
    meter?.invocation(
      model.functions.get(functionId)?.name ?? functionId,
      outcome.durationMs,
      outcome.cpuMs,
    );
    return outcome;
  };
  const asyncInvocations = new AsyncInvocations({
    invoke,
    functionOf: (functionId) => {
      const fn = model.functions.get(functionId);
      return fn === undefined
        ? undefined
        : {
            name: fn.name,
            arn: model.resolution.attributes[`${functionId}.Arn`] ?? functionId,
            asyncInvoke: fn.asyncInvoke,
          };
    },
    log,
    retryDelaysMs: retryDelays.asyncInvocationMs,
  });

  /** Stops everything started so far, once; `disconnects` as in `stop`. */
  const release = async (closeOptions: { readonly disconnects?: boolean } = {}) => {
    stopSchedules();
    // Cut retry waits now; what is in flight returns once the pools are closed.
    const draining = Promise.all([streams?.stop(), asyncInvocations.stop()]);
    await gateway?.close(closeOptions);
    await Promise.allSettled([...pools.values()].map((pool) => pool.close()));
    await draining;
    await new Promise<void>((resolve) => {
      if (server === undefined || !server.listening) return resolve();
      server.closeAllConnections();
      server.close(() => resolve());
    });
    await iamProxy?.close();
    await faultProxy?.close();
    await meterProxy?.close();
    await streams?.close();
    await dynamo.stop();
    removeOwnAssembly();
  };

  try {
    await ensureTables(dynamo.endpoint, tableDefinitions(model));
    // Functions -> faults -> meter -> streams -> engine: a request the fault
    // proxy fails never reached DynamoDB, so it is not metered (AWS bills no
    // throttled request) and changed nothing to stream; the stream capture's
    // own reads are not the functions' and are not metered either.
    streams = await startLocalStreams({
      model,
      engine: dynamo.endpoint,
      invoke,
      log,
      retryDelayMs: retryDelays.streamBatchMs,
      retryMaxDelayMs: retryDelays.streamBatchMaxMs,
    });
    if (meter !== undefined) meterProxy = await startDynamoMeterProxy(streams.endpoint, meter);
    const metered = meterProxy?.endpoint ?? streams.endpoint;
    if (options.faults !== undefined) {
      faultProxy = await startDynamoFaultProxy(metered, () => faults.dynamo());
    }
    // Functions -> IAM -> faults: a call the role does not allow is refused
    // before anything else happens to it, as in AWS.
    iamProxy = await startDynamoIamProxy(
      faultProxy?.endpoint ?? metered,
      () => access,
      (table) => `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${table}`,
      denied,
    );
    // The functions' requests go through the proxies; the stack's own and tests' do not.
    const functionsDynamo = iamProxy.endpoint;

    server = createServer((request, response) => {
      void serveHttp(request, response).catch((error: unknown) => {
        log(`http error: ${String(error)}`);
        if (!response.headersSent) response.writeHead(500).end();
      });
    });
    server.on('upgrade', (request, socket, head) => {
      if (gateway === undefined) return socket.destroy();
      void gateway.handleUpgrade(request, socket, head).catch((error: unknown) => {
        log(`upgrade error: ${String(error)}`);
        socket.destroy();
      });
    });
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const port = (listening.address() as AddressInfo).port;
    const httpUrl = `http://127.0.0.1:${port}`;
    const callbackUrl = `${httpUrl}/${model.stageName}`;

    const definitionsOf = (current: StackModel) =>
      [...current.functions.values()].map((fn) => ({
        name: fn.name,
        bundle: fn.bundle,
        handler: fn.handler,
        timeoutMs: fn.timeoutMs,
        memoryMb: fn.memoryMb,
        environment: {
          ...localEnvironment(current, fn.environment, {
            httpUrl,
            secret,
            dynamo: functionsDynamo,
          }),
          // Lambda's credentials are the role's: a request signed with them names the function.
          AWS_ACCESS_KEY_ID: accessKeyIdOf(fn.logicalId),
        },
        logicalId: fn.logicalId,
      }));
    for (const definition of definitionsOf(model)) {
      pools.set(definition.logicalId, new FunctionPool(definition, { log }));
    }
    gateway = new WebSocketGateway({
      model,
      invoke,
      limits,
      log,
      mayInvoke: async (functionId, sourceArn) => {
        const denial = await permissions.check(functionId, API_GATEWAY_PRINCIPAL, sourceArn);
        if (denial !== undefined) log(invokeDeniedLine(denial));
        return denial === undefined;
      },
      ...(options.requests === undefined ? {} : { requests: options.requests }),
      ...(options.faults === undefined ? {} : { disconnectLost: () => faults.disconnectLost() }),
    });
    const liveGateway = gateway;
    const liveStreams = streams;
    const runSchedule = (schedule: StackModel['schedules'][number]) =>
      invoke(schedule.functionId, scheduledEvent(schedule));
    if (options.schedules) {
      stopSchedules = startSchedules(model.schedules, async (schedule) => {
        const outcome = await runSchedule(schedule);
        if (!outcome.ok) log(`${schedule.ruleId} failed: ${outcome.error.message}`);
      });
    }

    const demoPage = () =>
      readFileSync(new URL('./demo/index.html', import.meta.url), 'utf8').replace(
        '%STAGE%',
        model.stageName,
      );
    const sdk = clientBundle();
    async function serveHttp(request: IncomingMessage, response: ServerResponse) {
      if (meter !== undefined && request.url?.startsWith(`${liveGateway.path}/@connections/`)) {
        meter.management(request.method ?? 'GET');
      }
      const managed = await handleManagementRequest(
        liveGateway,
        limits.maxPostBytes,
        request,
        response,
        () => faults.management(),
        (method, connectionId) =>
          checkAccess(request, [
            {
              action: 'execute-api:ManageConnections',
              resource: `arn:aws:execute-api:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${model.apiId}/${model.stageName}/${method}/@connections/${connectionId}`,
            },
          ]),
      );
      if (managed) return;
      const invoked = await handleInvokeRequest(
        {
          functionIdOf: functionIdResolver(model.functions),
          invoke,
          queueEvent: (functionId, event) => asyncInvocations.enqueue(functionId, event),
          log,
          authorize: (functionArn: string) =>
            checkAccess(request, [{ action: 'lambda:InvokeFunction', resource: functionArn }]),
        },
        request,
        response,
      );
      if (invoked) return;
      const answered = await handleSecretsManagerRequest(
        {
          secrets,
          region: LOCAL_REGION,
          account: LOCAL_ACCOUNT,
          authorize: (action, secretArn) => checkAccess(request, [{ action, resource: secretArn }]),
        },
        request,
        response,
      );
      if (answered) return;
      const { pathname } = new URL(request.url ?? '/', 'http://localhost');
      if (request.method === 'GET' && pathname === '/dev/token') {
        return handleDevToken({ secret, ...issuerAndAudience(model, env) }, request, response);
      }
      if (request.method === 'GET' && (pathname === '/' || pathname === '/index.html')) {
        response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(demoPage());
        return;
      }
      if (request.method === 'GET' && pathname === CLIENT_BUNDLE_PATH) return sdk.serve(response);
      response
        .writeHead(404, { 'Content-Type': 'application/json' })
        .end('{"message":"Not Found"}');
    }

    let stopped = false;
    return {
      url: `ws://127.0.0.1:${port}/${model.stageName}`,
      httpUrl,
      callbackUrl,
      lambdaEndpoint: httpUrl,
      port,
      engine: dynamo.name,
      dynamoEndpoint: dynamo.endpoint,
      secret,
      get model() {
        return model;
      },
      gateway: liveGateway,
      get faults() {
        return faults.report;
      },
      runSchedules() {
        return Promise.all(model.schedules.map(runSchedule));
      },
      async streamsIdle() {
        // Each kind of work may set off the other: a batch's function invoking
        // asynchronously, an asynchronous invocation writing to a stream.
        while (liveStreams.busy || asyncInvocations.busy) {
          await Promise.all([liveStreams.idle(), asyncInvocations.idle()]);
        }
      },
      get assembly() {
        return currentAssembly;
      },
      async reload(next?: string) {
        const fresh = next ?? synthesize();
        const freshModel = readStackModel(fresh, stackId, options.apiPath);
        const freshSecrets = stackSecrets(freshModel, secret);
        await Promise.all(
          definitionsOf(freshModel).map((definition) =>
            pools.get(definition.logicalId)?.reload(definition),
          ),
        );
        if (next === undefined) {
          removeOwnAssembly();
          ownAssembly = fresh;
        }
        model = freshModel;
        access = accessCheckOf(freshModel);
        permissions = invokePermissionsOf(freshModel);
        secrets = freshSecrets;
        currentAssembly = fresh;
      },
      async reloadFunctions(bundles) {
        const definitions = new Map(
          definitionsOf(model).map((definition) => [definition.logicalId, definition]),
        );
        // The most recently used first: they take the init slots first, so
        // the function a client is using right now is the first served anew.
        const recentFirst = [...bundles].sort(
          ([a], [b]) =>
            (pools.get(b)?.stats().lastInvokedAt ?? 0) - (pools.get(a)?.stats().lastInvokedAt ?? 0),
        );
        await Promise.all(
          recentFirst.map(([functionId, bundle]) => {
            const definition = definitions.get(functionId);
            return definition === undefined
              ? undefined
              : pools.get(functionId)?.reload({ ...definition, bundle });
          }),
        );
      },
      async stop(stopOptions = {}) {
        if (stopped) return;
        stopped = true;
        await release(stopOptions);
      },
    };
  } catch (error) {
    await release();
    throw error;
  }
}

/** What each function of `model` may call, as its role in the template says. */
function accessCheckOf(model: StackModel): AccessCheck {
  const names = new Map([...model.functions].map(([id, fn]) => [id, fn.name]));
  return new AccessCheck(model.roles, names, LOCAL_ACCOUNT);
}

/** Whether services may invoke each function of `model`, as its resource-based policy says. */
function invokePermissionsOf(model: StackModel): InvokePermissions {
  return new InvokePermissions((functionId) => {
    const functionArn = model.resolution.attributes[`${functionId}.Arn`];
    return functionArn === undefined
      ? undefined
      : { functionArn, policy: model.permissions.get(functionId) };
  }, LOCAL_ACCOUNT);
}

/** The log line of an invocation a function's resource-based policy refused a service. */
function invokeDeniedLine(denial: InvokeDenial): string {
  return `AccessDenied: ${denial.principal} may not lambda:InvokeFunction on ${denial.functionArn} (source ${denial.sourceArn}): ${denial.reason}`;
}

/** The log line of a refused call: who, what, on what, and why. */
function deniedLine(denial: AccessDenial): string {
  const why = denial.explicit
    ? 'a statement of the role in the template denies it'
    : 'no statement of the role in the template allows it';
  return `AccessDenied: ${denial.functionName} (role ${denial.roleId}) may not ${denial.action} on ${denial.resource}: ${why}`;
}

/** The configuration the synthesis sees: the local secret stays out of the template. */
export function synthesisEnv(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !LOCAL_ONLY.includes(name)));
}

/**
 * A function's environment with local values: references resolved (a
 * `JWT_SECRET_ARN` to the secret the local Secrets Manager serves), the
 * management API's URL pointing at the local one, and the SDK's endpoints of
 * DynamoDB, Lambda and Secrets Manager set through their own
 * `AWS_ENDPOINT_URL_<SERVICE>` settings, so no handler code knows it runs
 * locally. Only a function verifying against a JWKS gets the HS256 secret
 * directly instead (see below).
 */
export function localEnvironment(
  model: StackModel,
  environment: Readonly<Record<string, unknown>>,
  local: { httpUrl: string; secret: string; dynamo: string },
): Record<string, string> {
  const resolved = resolveEnvironment(environment, model.resolution);
  const awsApi = `https://${model.apiId}.execute-api.${LOCAL_REGION}.amazonaws.com`;
  const values = Object.fromEntries(
    Object.entries(resolved).map(([name, value]) => [name, value.replace(awsApi, local.httpUrl)]),
  );
  // Locally every API verifies the HS256 tokens of /dev/token. A JWKS (your
  // identity provider's keys) would not verify them, so a JWKS-mode function
  // gets the HS256 secret directly; a secret's ARN is read from the local
  // Secrets Manager, which holds that same secret, as in AWS.
  if ('JWT_JWKS_URL' in values) {
    delete values.JWT_SECRET_ARN;
    delete values.JWT_JWKS_URL;
    values.JWT_SECRET = local.secret;
  }
  return {
    ...values,
    AWS_REGION: LOCAL_REGION,
    AWS_ENDPOINT_URL_DYNAMODB: local.dynamo,
    AWS_ENDPOINT_URL_LAMBDA: local.httpUrl,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: local.httpUrl,
  };
}

function tableDefinitions(model: StackModel) {
  return model.tables.map((table) => ({ ...table, tableName: table.logicalId }));
}

/**
 * The `iss` and `aud` dev tokens carry: what the API's authorizer requires
 * (its JWT_ISSUER and JWT_AUDIENCE), else the configuration's.
 */
function issuerAndAudience(model: StackModel, env: Env) {
  const authorizer = model.routes.get('$connect')?.authorizer?.functionId;
  const variables = model.functions.get(authorizer ?? '')?.environment ?? {};
  const literal = (name: string) => {
    const value = variables[name] ?? env[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const issuer = literal('JWT_ISSUER');
  const audience = literal('JWT_AUDIENCE');
  return {
    ...(issuer === undefined ? {} : { issuer }),
    ...(audience === undefined ? {} : { audience }),
  };
}
