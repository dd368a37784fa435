import { stringifyJson } from '../../protocol/json.js';
import type { ServerFrame } from '../../protocol/messages.js';
import { METRIC } from '../shared/metric-names.js';
import { forEachBounded } from './concurrency.js';
import { recordFanOut } from './delivery-metrics.js';
import { departConnection } from './departure.js';
import type { DeliveryReport, DeliveryWorkers, Member, Services, Target } from './ports.js';

export type { Target } from './ports.js';

/** A connection found gone, and the room whose fan-out found it (none for `direct`). */
export interface GoneTarget {
  readonly target: Target;
  readonly room?: string;
}

/** What a fan-out did. */
export interface FanOutReport {
  readonly delivered: number;
  /** Connections found gone (and pruned, up to the per-request bound). */
  readonly gone: number;
  /** Posts that failed after retries; those members recover through `history`. */
  readonly failed: number;
  /** Gone connections whose removal failed; a later fan-out or the sweeper removes them. */
  readonly pruneFailed: number;
}

/**
 * Posts in flight at once per fan-out: enough to hide each post's round trip
 * (a room of 1,000 takes 16 rounds), well under the account's request rate.
 */
export const FAN_OUT_CONCURRENCY = 64;

/**
 * Posts start this many at a time as slots free up, not one per completion:
 * that costs each post 30 to 40% less of the function's CPU, which bounds how
 * fast a large room is reached. Groups start a turn of the event loop apart,
 * not all 64 at once, so the first members are reached sooner
 * (`npm run bench:posts` measures both). A slow or retried post still holds
 * only its own slot.
 */
export const FAN_OUT_GROUP = 16;

/**
 * Departures one request makes at most, its own fan-out's and those its
 * presence announcements find. The others stay in the table and are found by
 * the next fan-out or the sweeper, so a burst of dead connections cannot hold
 * every sender's reply until its function times out.
 */
export const MAX_PRUNES_PER_REQUEST = 25;

export interface BroadcastOptions {
  /** A connection not to deliver to (the sender, for frames that exclude it). */
  readonly except?: string;
  /** Members already read, to save a query. */
  readonly members?: readonly Member[];
}

/**
 * Delivers a frame to every connection in the room, page by page, then prunes
 * the connections that turned out to be gone. One slow or gone member never
 * stops delivery to the others.
 */
export async function broadcast(
  services: Services,
  room: string,
  frame: ServerFrame,
  options: BroadcastOptions = {},
): Promise<FanOutReport> {
  const startedAt = performance.now();
  const report = await fanOut(services, room, frame, options);
  recordFanOut(services, report, startedAt);
  const pruned = await prune(
    services,
    report.gone.map((target) => ({ target, room })),
  );
  return {
    delivered: report.delivered,
    gone: report.gone.length,
    failed: report.failed,
    pruneFailed: pruned.failed,
  };
}

/** Every member of the room, all pages read. */
export async function readMembers(services: Services, room: string): Promise<Member[]> {
  const members: Member[] = [];
  for await (const page of services.rooms.memberPages(room)) members.push(...page);
  return members;
}

/**
 * Delivers a frame to every connection in the room and returns the gone ones,
 * pruning nothing. Every page is read before the first post, so a large room
 * can be split across the fan-out workers.
 */
export async function fanOut(
  services: Services,
  room: string,
  frame: ServerFrame,
  options: BroadcastOptions = {},
): Promise<DeliveryReport> {
  const members = options.members ?? (await readMembers(services, room));
  const targets = members.flatMap((member) =>
    member.connectionIds
      .filter((id) => id !== options.except)
      .map((connectionId) => ({ userId: member.userId, name: member.name, connectionId })),
  );
  return deliverToMany(services, targets, stringifyJson(frame));
}

/**
 * Posts one payload to each target: here when they fit one share, else this
 * function posts the first share while the workers post the others in
 * parallel. A share no worker would take (throttled, refused) is posted here.
 * Each target is in one share, so each gets the payload once, in the order
 * this function's fan-outs were made, as without workers.
 */
export async function deliverToMany(
  services: Services,
  targets: readonly Target[],
  payload: string,
): Promise<DeliveryReport> {
  const { workers } = services;
  if (workers === undefined || targets.length <= workers.chunkSize) {
    return deliver(services, targets, payload);
  }
  const [own = [], ...shares] = chunks(targets, workers.chunkSize);
  const reports = await Promise.all([
    deliver(services, own, payload),
    ...shares.map((share) => delegate(services, workers, share, payload)),
  ]);
  return {
    delivered: reports.reduce((sum, report) => sum + report.delivered, 0),
    failed: reports.reduce((sum, report) => sum + report.failed, 0),
    gone: reports.flatMap((report) => report.gone),
  };
}

async function delegate(
  services: Pick<Services, 'notifier'>,
  workers: DeliveryWorkers,
  share: readonly Target[],
  payload: string,
): Promise<DeliveryReport> {
  try {
    return await workers.deliver(share, payload);
  } catch {
    return deliver(services, share, payload);
  }
}

/** Posts one payload to each target from this function; returns the counts and the targets found gone. */
export async function deliver(
  services: Pick<Services, 'notifier'>,
  targets: readonly Target[],
  payload: string,
): Promise<DeliveryReport> {
  let delivered = 0;
  const gone: Target[] = [];
  const failures = await forEachBounded(
    targets,
    FAN_OUT_CONCURRENCY,
    async (target) => {
      const result = await services.notifier.post(target.connectionId, payload);
      if (result === 'gone') gone.push(target);
      else delivered++;
    },
    FAN_OUT_GROUP,
  );
  return { delivered, failed: failures.length, gone };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    result.push(items.slice(start, start + size));
  }
  return result;
}

/**
 * API Gateway answers 410 to posts while a connection's `$connect` runs (up to
 * its 29-second integration timeout), after `$connect` has recorded it; a
 * younger record that answers gone may be opening, so pruning leaves it (TTL
 * and later fan-outs remove it if it really is gone).
 */
export const CONNECT_GRACE_MS = 30_000;

/**
 * Departs gone connections, announcing each user's presence leave. The
 * announcements may find more gone connections: they join the same worklist,
 * so every departure is announced however long the chain, and none twice per
 * request. At most MAX_PRUNES_PER_REQUEST departures are made, in random
 * order so that concurrent senders finding the same dead connections mostly
 * prune different ones. A removal that fails is left for a later fan-out or
 * the sweeper: the request that found the connection gone has done its own
 * work, and must not answer `internal` for someone else's cleanup.
 */
export async function prune(
  services: Services,
  found: readonly GoneTarget[],
): Promise<{ removed: number; failed: number }> {
  const connectedBefore = services.clock() - CONNECT_GRACE_MS;
  const queue = shuffled(found);
  const seen = new Set<string>();
  let removed = 0;
  let failed = 0;
  while (queue.length > 0 && seen.size < MAX_PRUNES_PER_REQUEST) {
    const { target, room } = queue.shift() as GoneTarget;
    if (seen.has(target.connectionId)) continue;
    seen.add(target.connectionId);
    try {
      const departure = await departConnection(services, target, target, {
        alsoRooms: room === undefined ? [] : [room],
        connectedBefore,
      });
      if (departure.kind === 'removed') removed++;
      queue.push(...shuffled(departure.gone));
    } catch {
      failed++;
    }
  }
  services.metrics?.count(METRIC.gonePruned, removed);
  return { removed, failed };
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}
