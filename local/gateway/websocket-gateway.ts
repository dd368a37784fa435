import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  type RouteModel,
  type StackModel,
} from '../assembly/stack-model.js';
import {
  authorizerEvent,
  connectEvent,
  disconnectEvent,
  type EventSource,
  type Handshake,
  messageEvent,
  newConnectionId,
} from './events.js';
import type { Invocation, Invoker } from './invoker.js';
import {
  describeFailure,
  type RefusedBy,
  type RequestOutcome,
  type RequestReporter,
} from './request-report.js';

/** API Gateway's quotas that the local gateway keeps (PROTOCOL.md section 8). */
export interface GatewayLimits {
  /** Client frames: 32 KiB. */
  readonly maxFrameBytes: number;
  /** Messages posted to a connection: 128 KiB. */
  readonly maxPostBytes: number;
  /** Idle connections close after 10 minutes. */
  readonly idleTimeoutMs: number;
  /** Connections close after 2 hours. */
  readonly maxConnectionMs: number;
}

export const API_GATEWAY_LIMITS: GatewayLimits = {
  maxFrameBytes: 32 * 1024,
  maxPostBytes: 128 * 1024,
  idleTimeoutMs: 10 * 60_000,
  maxConnectionMs: 2 * 3600_000,
};

/** A connection the gateway holds. */
export interface LiveConnection {
  readonly source: EventSource;
  /** The authorizer's context plus `principalId`, handed to every later route. */
  readonly authorizer?: Record<string, unknown>;
  socket?: WebSocket;
  /** `connecting` while `$connect` runs: posts then answer 410, as in AWS. */
  state: 'connecting' | 'open' | 'closed';
  lastActiveAt: number;
  timers: NodeJS.Timeout[];
}

export interface GatewayOptions {
  readonly model: StackModel;
  readonly invoke: Invoker;
  readonly limits?: GatewayLimits;
  readonly log?: (line: string) => void;
  /**
   * Receives a report of each request once answered: handshake, frame or close.
   * @default - none
   */
  readonly requests?: RequestReporter;
  /**
   * Whether to drop the `$disconnect` of a connection that ended without a
   * close frame (fault injection); never asked about a clean close.
   * @default - every `$disconnect` is invoked
   */
  readonly disconnectLost?: () => boolean;
  /**
   * Whether API Gateway may invoke the function for `sourceArn`, the
   * execute-api ARN it invokes on behalf of (`<api>/<stage>/<route key>` for a
   * route, `<api>/authorizers/<id>` for the authorizer), as the function's
   * resource-based policy decides. A refused invocation fails as API Gateway
   * fails it, before the function runs: the handshake answers 500, a frame
   * gets `Internal server error`.
   * @default - every function may be invoked
   */
  readonly mayInvoke?: (functionId: string, sourceArn: string) => boolean | Promise<boolean>;
}

/** API Gateway's own error frames (not the application's). */
const FORBIDDEN = 'Forbidden';
const INTERNAL = 'Internal server error';
/**
 * What API Gateway's execution log says when a function's resource-based
 * policy does not let it invoke the function; the client sees an internal error.
 * https://repost.aws/knowledge-center/api-gateway-rest-api-lambda-integrations
 */
const INVALID_PERMISSIONS: Invocation = {
  ok: false,
  error: {
    kind: 'permission',
    name: 'AccessDeniedException',
    message: 'Execution failed due to configuration error: Invalid permissions on Lambda function',
  },
};
/** Close code and reason API Gateway uses when it ends a connection itself. */
const GOING_AWAY = 1001;
/** What ws reports when the socket ended without a close frame. */
const ABNORMAL_CLOSURE = 1006;

/**
 * An emulation of an API Gateway WebSocket API stage, following AWS's
 * documented behaviour: the `$connect` authorizer and integration decide the
 * handshake; frames are routed by the route selection expression with a
 * `$default` fallback; replies reach the client only on two-way routes;
 * `$disconnect` reports the close code and reason.
 */
export class WebSocketGateway {
  readonly connections = new Map<string, LiveConnection>();
  private readonly server: WebSocketServer;
  private readonly limits: GatewayLimits;
  private readonly log: (line: string) => void;
  private readonly selectionPath: string[];
  private readonly disconnects = new Set<Promise<unknown>>();
  /** Frames being routed: their integration invoked and not yet answered. */
  private readonly routing = new Set<Promise<unknown>>();
  /** Set by close() when the connections it ends are not to invoke `$disconnect`. */
  private discardDisconnects = false;
  /** Connections dropped by `vanish`, whose `$disconnect` is never invoked. */
  private readonly vanished = new Set<string>();

  constructor(private readonly options: GatewayOptions) {
    this.limits = options.limits ?? API_GATEWAY_LIMITS;
    this.log = options.log ?? (() => {});
    // ws closes a connection whose frame exceeds maxPayload with 1009, as API Gateway does.
    this.server = new WebSocketServer({ noServer: true, maxPayload: this.limits.maxFrameBytes });
    this.selectionPath = selectionPath(options.model.routeSelectionExpression);
  }

  /** The stage's path: `/<stage>`. */
  get path(): string {
    return `/${this.options.model.stageName}`;
  }

  /** Handles an HTTP upgrade request for the stage. */
  async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const started = performance.now();
    const connectionId = newConnectionId();
    let userId: string | undefined;
    const report = (outcome: RequestOutcome) =>
      this.report('$connect', connectionId, userId, outcome, started);
    const refuseAs = (status: number, message: string, by: RefusedBy, reason = message) => {
      refuse(socket, status, message);
      report({ kind: 'refused', status, by, reason });
    };
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== this.path && url.pathname !== `${this.path}/`) {
      return refuseAs(403, FORBIDDEN, 'gateway', `no stage at ${url.pathname}`);
    }
    const headers = flatHeaders(request);
    const source: EventSource = {
      apiId: this.options.model.apiId,
      stage: this.options.model.stageName,
      domainName: headers.Host ?? headers.host ?? 'localhost',
      connectionId,
      connectedAt: Date.now(),
      sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
      ...(headers['User-Agent'] === undefined && headers['user-agent'] === undefined
        ? {}
        : { userAgent: headers['User-Agent'] ?? headers['user-agent'] }),
    };
    const handshake: Handshake = { headers, query: url.searchParams };
    const route = this.options.model.routes.get('$connect');

    let authorizer: Record<string, unknown> | undefined;
    if (route?.authorizer) {
      // A missing identity source is refused before the authorizer runs.
      if (!identityPresent(route.authorizer.identitySource, handshake)) {
        return refuseAs(401, 'Unauthorized', 'gateway', 'no token');
      }
      const outcome = await this.invokeFor(
        `authorizers/${route.authorizer.authorizerId}`,
        route.authorizer.functionId,
        authorizerEvent(source, handshake),
      );
      if (!outcome.ok) {
        const unauthorized = outcome.error.message === 'Unauthorized';
        if (unauthorized) return refuseAs(401, 'Unauthorized', 'authorizer');
        this.log(`authorizer failed: ${outcome.error.name}: ${outcome.error.message}`);
        return refuseAs(
          500,
          INTERNAL,
          'authorizer',
          `authorizer ${describeFailure(outcome.error)}`,
        );
      }
      const policy = outcome.result as AuthorizerResult;
      if (!allows(policy)) return refuseAs(403, FORBIDDEN, 'authorizer', 'denied');
      authorizer = { ...policy.context, principalId: policy.principalId };
      userId = policy.principalId;
    }

    const connection: LiveConnection = {
      source,
      ...(authorizer === undefined ? {} : { authorizer }),
      state: 'connecting',
      lastActiveAt: Date.now(),
      timers: [],
    };
    this.connections.set(connectionId, connection);
    if (route) {
      const outcome = await this.invokeFor(
        this.routePath(route),
        route.functionId,
        connectEvent(source, handshake, authorizer),
      );
      const status = outcome.ok ? statusOf(outcome.result) : 500;
      if (status < 200 || status > 299) {
        this.connections.delete(connectionId);
        const message = status === 500 ? INTERNAL : (bodyOf(outcome) ?? FORBIDDEN);
        const reason = outcome.ok
          ? `$connect answered ${status}`
          : `$connect ${describeFailure(outcome.error)}`;
        return refuseAs(status, message, 'integration', reason);
      }
    }
    if (socket.destroyed) {
      // The client gave up during $connect: it never connected, so nothing to disconnect.
      this.connections.delete(connectionId);
      return report({ kind: 'gone' });
    }
    this.server.handleUpgrade(request, socket, head, (ws) => this.open(connection, ws));
    report({ kind: 'ok' });
  }

  /** Sends data to a connection as the management API's POST does; false when it is gone. */
  post(connectionId: string, data: Buffer): boolean {
    const connection = this.connections.get(connectionId);
    if (connection?.state !== 'open' || connection.socket === undefined) return false;
    connection.socket.send(data, { binary: false });
    return true;
  }

  /** Closes a connection as the management API's DELETE does; false when it is gone. */
  disconnect(connectionId: string): boolean {
    const connection = this.connections.get(connectionId);
    if (connection?.state !== 'open' || connection.socket === undefined) return false;
    connection.socket.close(1000, '');
    return true;
  }

  /**
   * Drops a connection without a close frame and without its `$disconnect`,
   * as when a client's network is lost and AWS's best-effort `$disconnect`
   * never comes: posts to it answer 410 from now on (tests and the bench).
   * False when it is not open.
   */
  vanish(connectionId: string): boolean {
    const connection = this.connections.get(connectionId);
    if (connection?.state !== 'open' || connection.socket === undefined) return false;
    this.vanished.add(connectionId);
    connection.socket.terminate();
    return true;
  }

  /**
   * Resolves once every frame received so far has been routed and answered,
   * and every `$disconnect` invoked so far has finished, including those the
   * work itself set off: a barrier for a test that asserts nothing more
   * happens, where a fixed wait would guess.
   */
  async idle(): Promise<void> {
    while (this.routing.size + this.disconnects.size > 0) {
      await Promise.allSettled([...this.routing, ...this.disconnects]);
    }
  }

  /**
   * Closes every connection with 1001 and waits for their `$disconnect` to
   * finish. With `disconnects: false` no `$disconnect` is invoked: a bench
   * whose thousands of members would each announce a presence leave to the
   * whole room ends at once instead of after minutes.
   */
  async close(options: { readonly disconnects?: boolean } = {}): Promise<void> {
    this.discardDisconnects = options.disconnects === false;
    for (const connection of this.connections.values()) {
      connection.socket?.close(GOING_AWAY, 'Going away');
    }
    const deadline = Date.now() + 5000;
    while (this.connections.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const connection of this.connections.values()) connection.socket?.terminate();
    await Promise.allSettled([...this.disconnects]);
    this.server.close();
  }

  private open(connection: LiveConnection, socket: WebSocket): void {
    connection.socket = socket;
    connection.state = 'open';
    const id = connection.source.connectionId;
    this.armTimers(connection);
    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        // API Gateway does not accept binary frames from clients on WebSocket APIs.
        socket.close(1003, 'Binary frames are not supported');
        return;
      }
      connection.lastActiveAt = Date.now();
      this.armTimers(connection);
      const routed = this.route(connection, data.toString());
      this.routing.add(routed);
      void routed.finally(() => this.routing.delete(routed));
    });
    socket.on('close', (code, reason) => {
      connection.state = 'closed';
      for (const timer of connection.timers) clearTimeout(timer);
      this.connections.delete(id);
      // AWS invokes $disconnect on a best-effort basis; a client that vanished
      // without a close frame is the case where it can be missed.
      // https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-keys-connect-disconnect.html
      if (code === ABNORMAL_CLOSURE && this.options.disconnectLost?.()) return;
      if (this.discardDisconnects || this.vanished.delete(id)) return;
      const done = this.disconnected(connection, code, reason.toString());
      this.disconnects.add(done);
      void done.finally(() => this.disconnects.delete(done));
    });
    socket.on('error', () => {
      // 'close' follows every error; the error itself needs no handling here.
    });
  }

  private armTimers(connection: LiveConnection): void {
    for (const timer of connection.timers) clearTimeout(timer);
    const socket = connection.socket;
    if (socket === undefined) return;
    const closeSoon = (ms: number) =>
      setTimeout(() => socket.close(GOING_AWAY, 'Going away'), Math.max(0, ms)).unref();
    const age = Date.now() - connection.source.connectedAt;
    connection.timers = [
      closeSoon(this.limits.idleTimeoutMs),
      closeSoon(this.limits.maxConnectionMs - age),
    ];
  }

  private async route(connection: LiveConnection, body: string): Promise<void> {
    const started = performance.now();
    const route = this.select(body);
    const socket = connection.socket;
    const requestId = crypto.randomUUID();
    const apiError = (message: string) =>
      JSON.stringify({ message, connectionId: connection.source.connectionId, requestId });
    const report = (outcome: RequestOutcome) =>
      this.report(
        route?.routeKey ?? '(none)',
        connection.source.connectionId,
        principalOf(connection),
        outcome,
        started,
      );
    if (route === undefined) {
      socket?.send(apiError(FORBIDDEN));
      return report({ kind: 'unrouted' });
    }
    const outcome = await this.invokeFor(
      this.routePath(route),
      route.functionId,
      messageEvent(connection.source, route.routeKey, body, connection.authorizer),
    );
    report(outcomeOf(outcome));
    if (!outcome.ok) {
      this.log(
        `${route.routeKey} failed: ${outcome.error.kind} ${outcome.error.name}: ${outcome.error.message}`,
      );
      socket?.send(apiError(INTERNAL));
      return;
    }
    const reply = route.twoWay ? bodyOf(outcome) : undefined;
    if (reply !== undefined && reply !== '' && socket?.readyState === socket?.OPEN)
      socket?.send(reply);
  }

  /** The route for a frame: the selection expression's value, else `$default`. */
  private select(body: string): RouteModel | undefined {
    const routes = this.options.model.routes;
    let value: unknown;
    try {
      value = this.selectionPath.reduce<unknown>(
        (node, key) =>
          typeof node === 'object' && node !== null
            ? (node as Record<string, unknown>)[key]
            : undefined,
        JSON.parse(body),
      );
    } catch {
      value = undefined;
    }
    const key =
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : undefined;
    const selected =
      key === undefined || key === '$connect' || key === '$disconnect'
        ? undefined
        : routes.get(key);
    return selected ?? routes.get('$default');
  }

  private async disconnected(connection: LiveConnection, code: number, reason: string) {
    const route = this.options.model.routes.get('$disconnect');
    if (route === undefined) return;
    const started = performance.now();
    const outcome = await this.invokeFor(
      this.routePath(route),
      route.functionId,
      disconnectEvent(connection.source, { code, reason }, connection.authorizer),
    );
    this.report(
      '$disconnect',
      connection.source.connectionId,
      principalOf(connection),
      outcomeOf(outcome),
      started,
    );
    if (!outcome.ok)
      this.log(`$disconnect failed: ${outcome.error.name}: ${outcome.error.message}`);
  }

  /**
   * Invokes a route's or the authorizer's function, once its resource-based
   * policy lets API Gateway invoke it for `path` of the API's execute-api ARN.
   */
  private async invokeFor(path: string, functionId: string, event: unknown): Promise<Invocation> {
    const mayInvoke = this.options.mayInvoke;
    if (mayInvoke !== undefined) {
      const sourceArn = `arn:aws:execute-api:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${this.options.model.apiId}/${path}`;
      if (!(await mayInvoke(functionId, sourceArn))) return INVALID_PERMISSIONS;
    }
    return this.options.invoke(functionId, event);
  }

  /** A route's part of the execute-api ARN: `<stage>/<route key>`. */
  private routePath(route: RouteModel): string {
    return `${this.options.model.stageName}/${route.routeKey}`;
  }

  private report(
    route: string,
    connectionId: string,
    userId: string | undefined,
    outcome: RequestOutcome,
    started: number,
  ): void {
    this.options.requests?.({
      route,
      connectionId,
      ...(userId === undefined ? {} : { userId }),
      outcome,
      durationMs: performance.now() - started,
    });
  }
}

/** The user the authorizer allowed the connection as, when it ran. */
function principalOf(connection: LiveConnection): string | undefined {
  const principal = connection.authorizer?.principalId;
  return typeof principal === 'string' ? principal : undefined;
}

/** A route's outcome: an error frame's code when the function answered one. */
function outcomeOf(outcome: Invocation): RequestOutcome {
  if (!outcome.ok) return { kind: 'failed', error: outcome.error };
  const code = errorCodeOf(bodyOf(outcome));
  return code === undefined ? { kind: 'ok' } : { kind: 'error', code };
}

/** The `code` of a reply that is an error frame (`{"type":"error","code":...}`). */
function errorCodeOf(reply: string | undefined): string | undefined {
  // Most replies are not errors, and a history page may be large: parse only a candidate.
  if (reply === undefined || !reply.includes('"error"')) return undefined;
  try {
    const frame = JSON.parse(reply) as { type?: unknown; code?: unknown };
    return frame.type === 'error' && typeof frame.code === 'string' ? frame.code : undefined;
  } catch {
    return undefined;
  }
}

interface AuthorizerResult {
  readonly principalId?: string;
  readonly policyDocument?: { Statement?: Array<{ Effect?: string; Action?: unknown }> };
  readonly context?: Record<string, unknown>;
}

function allows(policy: AuthorizerResult | undefined): boolean {
  const statements = policy?.policyDocument?.Statement ?? [];
  return statements.length > 0 && statements.every((statement) => statement.Effect === 'Allow');
}

/** `$request.body.action` → ['action']. */
function selectionPath(expression: string): string[] {
  const match = /^\$request\.body\.(.+)$/.exec(expression);
  if (!match?.[1]) throw new Error(`unsupported route selection expression ${expression}`);
  return match[1].split('.');
}

function identityPresent(sources: readonly string[], handshake: Handshake): boolean {
  return sources.every((source) => {
    const query = /^route\.request\.querystring\.(.+)$/.exec(source);
    if (query?.[1]) return (handshake.query.getAll(query[1]).at(-1) ?? '') !== '';
    const header = /^route\.request\.header\.(.+)$/.exec(source);
    if (header?.[1]) {
      const name = header[1].toLowerCase();
      return Object.entries(handshake.headers).some(
        ([key, value]) => key.toLowerCase() === name && value !== '',
      );
    }
    return true;
  });
}

function flatHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i];
    const value = request.rawHeaders[i + 1];
    if (name !== undefined && value !== undefined) headers[name] = value;
  }
  return headers;
}

function statusOf(result: unknown): number {
  const status = (result as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : 200;
}

function bodyOf(outcome: { ok: boolean; result?: unknown }): string | undefined {
  if (!outcome.ok) return undefined;
  const result = outcome.result;
  if (typeof result === 'string') return result;
  const body = (result as { body?: unknown } | undefined)?.body;
  return typeof body === 'string' ? body : undefined;
}

/** Answers an upgrade request with an HTTP error and closes it. */
function refuse(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};
