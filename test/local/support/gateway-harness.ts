import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClientOptions } from 'ws';
import type { RouteModel, StackModel } from '../../../local/assembly/stack-model.js';
import type { FaultAnswer } from '../../../local/faults/fault-injector.js';
import type { Invocation } from '../../../local/gateway/invoker.js';
import { handleManagementRequest } from '../../../local/gateway/management-api.js';
import type { RequestReporter } from '../../../local/gateway/request-report.js';
import {
  API_GATEWAY_LIMITS,
  type GatewayLimits,
  WebSocketGateway,
} from '../../../local/gateway/websocket-gateway.js';
import { type HandshakeOutcome, handshake, type TestClient } from './ws-client.js';

/** The parts of an API Gateway event the tests read. */
export interface RecordedEvent {
  readonly type?: string;
  readonly methodArn?: string;
  readonly headers?: Record<string, string>;
  readonly queryStringParameters?: Record<string, string>;
  readonly body?: string;
  readonly requestContext: {
    readonly routeKey: string;
    readonly eventType: string;
    readonly connectionId: string;
    readonly messageId?: string;
    readonly authorizer?: Record<string, unknown>;
    readonly disconnectStatusCode?: number;
    readonly disconnectReason?: string;
  };
}

/** A fake Lambda function: what it answers for an event. */
export type FakeFunction = (event: RecordedEvent) => Invocation | Promise<Invocation>;

/** One route of the fake API. */
export interface FakeRoute {
  /** Whether the route has a route response. @default false */
  readonly twoWay?: boolean;
  /** @default answers `{ statusCode: 200 }` */
  readonly handler?: FakeFunction;
}

/** What the test API has. */
export interface GatewayHarnessOptions {
  /** Routes by route key. */
  readonly routes: Readonly<Record<string, FakeRoute>>;
  /** A REQUEST authorizer on `$connect` with identity source `route.request.querystring.token`. */
  readonly authorizer?: FakeFunction;
  readonly limits?: Partial<GatewayLimits>;
  /** The management API's fault hook. */
  readonly faultOf?: () => FaultAnswer | undefined;
  /** The gateway's hook deciding whether a `$disconnect` is lost. */
  readonly disconnectLost?: () => boolean;
  /** Receives the gateway's report of each request. */
  readonly requests?: RequestReporter;
  /** The gateway's hook deciding whether API Gateway may invoke a function for a source ARN. */
  readonly mayInvoke?: (functionId: string, sourceArn: string) => boolean;
}

/** A call the gateway made to a fake function. */
export interface Call {
  readonly functionId: string;
  readonly event: RecordedEvent;
}

/** Function id of the fake authorizer; routes' functions are named by their route key. */
export const AUTHORIZER_ID = 'Authorizer';

/** The stage name of the test API. */
export const STAGE = 'prod';

/** A successful invocation returning `result`. */
export function succeed(result?: unknown): Invocation {
  return { ok: true, result };
}

/** A failed invocation, as the function pool reports a handler that threw. */
export function fail(message: string, name = 'Error'): Invocation {
  return { ok: false, error: { kind: 'error', name, message } };
}

/** An authorizer result allowing `$connect`, with a context. */
export function allow(principalId: string, context: Record<string, unknown> = {}) {
  return policy('Allow', principalId, context);
}

/** An authorizer result denying `$connect`. */
export function deny(principalId: string) {
  return policy('Deny', principalId, {});
}

function policy(effect: 'Allow' | 'Deny', principalId: string, context: Record<string, unknown>) {
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: '*' }],
    },
    context,
  };
}

/** A `WebSocketGateway` over a hand-made model and fake functions, on a real server. */
export class GatewayHarness {
  readonly calls: Call[] = [];
  readonly gateway: WebSocketGateway;
  readonly limits: GatewayLimits;
  private readonly server: Server;
  private readonly clients: TestClient[] = [];
  private port = 0;

  private constructor(options: GatewayHarnessOptions) {
    this.limits = { ...API_GATEWAY_LIMITS, ...options.limits };
    const functions = new Map<string, FakeFunction>();
    const routes = new Map<string, RouteModel>();
    for (const [routeKey, route] of Object.entries(options.routes)) {
      functions.set(routeKey, route.handler ?? (() => succeed({ statusCode: 200 })));
      const authorized = routeKey === '$connect' && options.authorizer !== undefined;
      routes.set(routeKey, {
        routeKey,
        functionId: routeKey,
        twoWay: route.twoWay ?? false,
        ...(authorized
          ? {
              authorizer: {
                authorizerId: AUTHORIZER_ID,
                functionId: AUTHORIZER_ID,
                identitySource: ['route.request.querystring.token'],
              },
            }
          : {}),
      });
    }
    if (options.authorizer) functions.set(AUTHORIZER_ID, options.authorizer);
    const model: StackModel = {
      apiId: 'local',
      routeSelectionExpression: '$request.body.action',
      stageName: STAGE,
      routes,
      functions: new Map(),
      tables: [],
      schedules: [],
      eventSourceMappings: [],
      secrets: [],
      roles: new Map(),
      permissions: new Map(),
      notices: [],
      resolution: { refs: {}, attributes: {} },
    };
    this.gateway = new WebSocketGateway({
      model,
      limits: this.limits,
      ...(options.disconnectLost === undefined ? {} : { disconnectLost: options.disconnectLost }),
      ...(options.requests === undefined ? {} : { requests: options.requests }),
      ...(options.mayInvoke === undefined ? {} : { mayInvoke: options.mayInvoke }),
      invoke: async (functionId, event) => {
        const fn = functions.get(functionId);
        if (fn === undefined) throw new Error(`no fake function ${functionId}`);
        const recorded = event as RecordedEvent;
        this.calls.push({ functionId, event: recorded });
        return fn(recorded);
      },
    });
    this.server = createServer((request, response) => {
      void handleManagementRequest(
        this.gateway,
        this.limits.maxPostBytes,
        request,
        response,
        options.faultOf,
      ).then((handled) => {
        if (!handled) response.writeHead(404).end();
      });
    });
    this.server.on('upgrade', (request, socket, head) => {
      this.gateway.handleUpgrade(request, socket, head).catch(() => socket.destroy());
    });
  }

  /** Starts a harness on 127.0.0.1, port 0. */
  static async start(options: GatewayHarnessOptions): Promise<GatewayHarness> {
    const harness = new GatewayHarness(options);
    await new Promise<void>((resolve, reject) => {
      harness.server.once('error', reject);
      harness.server.listen(0, '127.0.0.1', () => resolve());
    });
    harness.port = (harness.server.address() as AddressInfo).port;
    return harness;
  }

  /** `http://127.0.0.1:<port>`. */
  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The stage's WebSocket URL with an optional query string. */
  url(query = ''): string {
    return `ws://127.0.0.1:${this.port}/${STAGE}${query === '' ? '' : `?${query}`}`;
  }

  /** The management API's URL for a connection. */
  connectionUrl(connectionId: string): string {
    return `${this.httpUrl}/${STAGE}/@connections/${encodeURIComponent(connectionId)}`;
  }

  /** Events the function `functionId` received, in order. */
  eventsOf(functionId: string): RecordedEvent[] {
    return this.calls.filter((call) => call.functionId === functionId).map((call) => call.event);
  }

  /** Attempts a handshake; an opened client is closed by `close()`. */
  async handshake(query = '', options: ClientOptions = {}): Promise<HandshakeOutcome> {
    const outcome = await handshake(this.url(query), options);
    if (outcome.kind === 'open') this.clients.push(outcome.client);
    return outcome;
  }

  /** Opens a client, failing when the handshake is refused. */
  async connect(query = '', options: ClientOptions = {}): Promise<TestClient> {
    const outcome = await this.handshake(query, options);
    if (outcome.kind !== 'open') {
      throw new Error(`handshake refused with ${outcome.status}: ${outcome.body}`);
    }
    return outcome.client;
  }

  /** The connection id the gateway gave the client's `$connect`, the latest one. */
  lastConnectionId(): string {
    const connect = this.eventsOf('$connect').at(-1);
    if (connect === undefined) throw new Error('no $connect yet');
    return connect.requestContext.connectionId;
  }

  /** Closes clients, the gateway and the server. */
  async close(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.dispose()));
    await this.gateway.close();
    await new Promise<void>((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
