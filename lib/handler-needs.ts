import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { DynamoEventSourceProps } from 'aws-cdk-lib/aws-lambda-event-sources';
import { MEMBER_SK_PREFIX } from '../lambdas/adapters/table-keys.js';
import { ACTIONS } from '../protocol/messages.js';

/** The functions of a `RealtimeApi` and what each needs from it. */

/** The protocol actions, each a two-way route of the API (PROTOCOL.md section 4). */
export const ACTION_HANDLERS = ACTIONS;

/** The handlers of lambdas/handlers/, one function each. */
export const HANDLER_NAMES = [
  'authorizer',
  'connect',
  'disconnect',
  'default',
  ...ACTION_HANDLERS,
  'sweep',
  'fanout',
  'publish',
  'presence',
  'prune',
] as const;

/**
 * How often the sweeper looks for connections whose `$disconnect` never
 * arrived. Pruning at fan-out finds them in active rooms first; the sweep
 * covers quiet rooms and connections in none, well before their 3-hour TTL.
 */
export const SWEEP_INTERVAL = Duration.minutes(10);

/**
 * The memory of the functions that post to rooms, and of the sweeper: one
 * full vCPU. Their work grows with the room and is nearly all CPU (about
 * 0.4 ms per post), so at 256 MB, a seventh of a vCPU, the last of 1,000
 * members would wait over 3 s; at 1,769 MB half a second, for 0.1% more per
 * send, since CPU-bound work costs the same GB-seconds at any memory up to
 * a full vCPU (docs/cost-model.md, "On Lambda: memory buys CPU").
 */
export const FULL_VCPU_MEMORY_MB = 1_769;

/** The name of a handler module in lambdas/handlers/. */
export type HandlerName = (typeof HANDLER_NAMES)[number];

/** What one handler needs from the stack. */
export interface HandlerNeeds {
  /** The DynamoDB actions it calls on the table, and no others. */
  readonly tableActions: readonly string[];
  /** Queries the sweep index (only the sweeper: no other function reads an index). */
  readonly queriesSweepIndex?: boolean;
  /** Posts to connections through the management API. */
  readonly posts?: boolean;
  /** Fans out to rooms, so it may split a large room's posts across the fan-out workers. */
  readonly fansOut?: boolean;
  /**
   * Hands the connections its posts find gone to the `prune` function
   * (asynchronously), once claimed in their room (an UpdateItem).
   */
  readonly handsOffGone?: boolean;
  /** Verifies tokens, so it reads the HS256 secret or the JWKS. */
  readonly verifiesTokens?: boolean;
  /** Checks the Origin header of the handshake (the authorizer does). */
  readonly checksOrigin?: boolean;
  readonly timeout?: Duration;
  /**
   * Memory in MiB, which sets its CPU share (a full vCPU at 1,769).
   * @default 256: a few DynamoDB calls and little CPU, where waiting is cheapest
   */
  readonly memorySize?: number;
  /** Modules taken from the Lambda runtime instead of the bundle. */
  readonly runtimeModules?: readonly string[];
}

export const HANDLER_NEEDS: Readonly<Record<HandlerName, HandlerNeeds>> = {
  authorizer: {
    tableActions: [],
    verifiesTokens: true,
    checksOrigin: true,
    // Runs before every handshake; a slow one only delays the refusal.
    timeout: Duration.seconds(5),
    // Only HS256 with a Secrets Manager secret loads this client; bundled, it
    // would triple the bundle that every connect parses (JWKS mode never needs it).
    runtimeModules: ['@aws-sdk/client-secrets-manager'],
  },
  connect: { tableActions: ['Query', 'PutItem'] },
  // Removes its own connection and memberships; the stream announces the departures.
  disconnect: { tableActions: ['DeleteItem', 'UpdateItem'] },
  default: { tableActions: [] },
  // Posts nothing: the stream announces arrivals and departures.
  join: { tableActions: ['GetItem', 'UpdateItem', 'Query'] },
  leave: { tableActions: ['GetItem', 'UpdateItem'] },
  send: {
    tableActions: ['GetItem', 'UpdateItem', 'Query', 'PutItem'],
    posts: true,
    fansOut: true,
    handsOffGone: true,
    memorySize: FULL_VCPU_MEMORY_MB,
  },
  typing: {
    tableActions: ['GetItem', 'UpdateItem', 'Query'],
    posts: true,
    fansOut: true,
    handsOffGone: true,
    memorySize: FULL_VCPU_MEMORY_MB,
  },
  direct: { tableActions: ['GetItem', 'UpdateItem', 'Query'], posts: true, handsOffGone: true },
  history: { tableActions: ['GetItem', 'UpdateItem', 'Query'] },
  auth: { tableActions: ['GetItem', 'UpdateItem'], verifiesTokens: true },
  ping: { tableActions: ['GetItem', 'UpdateItem'] },
  sweep: {
    tableActions: ['DeleteItem', 'UpdateItem', 'Query'],
    queriesSweepIndex: true,
    // GetConnection, which ManageConnections allows; it posts no frame.
    posts: true,
    // Checks about 10,000 connections a minute; a sweep cut short resumes next time.
    timeout: Duration.minutes(5),
    // Each check is a signed request, CPU work like a post.
    memorySize: FULL_VCPU_MEMORY_MB,
  },
  // Posts one share of a large room's fan-out; invoked by the functions that fan out.
  fanout: {
    tableActions: [],
    posts: true,
    // Its callers wait for it within their own 15 s.
    timeout: Duration.seconds(10),
    memorySize: FULL_VCPU_MEMORY_MB,
  },
  // Invoked with IAM by other backends, not routed: `send`'s and `direct`'s
  // work without their admission (so no GetItem).
  publish: {
    tableActions: ['UpdateItem', 'Query', 'PutItem'],
    posts: true,
    fansOut: true,
    handsOffGone: true,
    memorySize: FULL_VCPU_MEMORY_MB,
  },
  // Fed by the table's stream: reads a room's members, posts its presence
  // frame, claims the gone connections it meets.
  presence: {
    tableActions: ['UpdateItem', 'Query'],
    posts: true,
    fansOut: true,
    handsOffGone: true,
    memorySize: FULL_VCPU_MEMORY_MB,
  },
  // Invoked asynchronously with connections found gone: removes them and their memberships.
  prune: { tableActions: ['DeleteItem', 'UpdateItem'] },
};

/**
 * How the table's stream feeds the `presence` function. A second's batching
 * window coalesces a room's arrivals and departures into one frame per member
 * (PROTOCOL.md section 4.1 allows 2 seconds from change to member). Only
 * membership records pass the filter, so the `presence` function is not
 * invoked for messages, admissions or connections. Records of one room share
 * a partition key, so they are processed in order even across the parallel
 * batches of one shard. A room whose members cannot be read is retried from
 * its first change (batch item failures); a failing batch is split to find
 * the record at fault, and a change older than an hour is no longer news.
 */
export const PRESENCE_EVENTS: DynamoEventSourceProps = {
  startingPosition: lambda.StartingPosition.LATEST,
  batchSize: 1000,
  maxBatchingWindow: Duration.seconds(1),
  parallelizationFactor: 10,
  reportBatchItemFailures: true,
  bisectBatchOnError: true,
  retryAttempts: 20,
  maxRecordAge: Duration.hours(1),
  filters: [
    lambda.FilterCriteria.filter({
      dynamodb: { Keys: { sk: { S: lambda.FilterRule.beginsWith(MEMBER_SK_PREFIX) } } },
    }),
  ],
};

/** The handlers that call the consumer's server hooks, when the API has them. */
export const HOOKED_HANDLERS: readonly HandlerName[] = ['connect', 'disconnect', 'join', 'send'];

/** The construct id of a handler's function, e.g. `JoinHandler`. */
export function handlerId(name: HandlerName): string {
  return `${pascal(name)}Handler`;
}

/**
 * The module of a handler: its TypeScript source in this repository, its
 * compiled JavaScript in the installed package.
 */
export function handlerEntry(name: HandlerName | 'reference-send'): string {
  return sourceOrCompiled(`../lambdas/handlers/${name}.ts`);
}

/**
 * The `.ts` module at `path` (relative to lib/) when it exists, as in this
 * repository, else its compiled `.js`, as in the installed package.
 */
export function sourceOrCompiled(path: string): string {
  const source = fileURLToPath(new URL(path, import.meta.url));
  return existsSync(source) ? source : source.replace(/\.ts$/, '.js');
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
