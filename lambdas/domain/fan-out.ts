import { stringifyJson } from '../../protocol/json.js';
import type { ServerFrame, User } from '../../protocol/messages.js';
import { forEachBounded } from './concurrency.js';
import { departConnection } from './departure.js';
import type { Member, Services } from './ports.js';

/** One connection to deliver to, with the user it belongs to. */
export interface Target extends User {
  readonly connectionId: string;
}

/** What a fan-out did. */
export interface FanOutReport {
  readonly delivered: number;
  /** Connections found gone (and pruned). */
  readonly gone: number;
  /** Posts that failed after retries; those members recover through `history`. */
  readonly failed: number;
  /** Gone connections whose removal failed; a later fan-out or the sweeper removes them. */
  readonly pruneFailed: number;
}

/** Posts in flight at once per fan-out: enough to hide latency, few enough to stay polite. */
export const FAN_OUT_CONCURRENCY = 32;

/**
 * Pruning announces presence leaves, which fan out and may find more gone
 * connections; this bounds that chain (each step removes records, so it ends anyway).
 */
const MAX_PRUNE_DEPTH = 3;

export interface BroadcastOptions {
  /** A connection not to deliver to (the sender, for frames that exclude it). */
  readonly except?: string;
  /** Members already read, to save a query. */
  readonly members?: readonly Member[];
  readonly depth?: number;
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
  const payload = stringifyJson(frame);
  const pages = options.members ? [options.members] : services.rooms.memberPages(room);
  let delivered = 0;
  let failed = 0;
  const gone: Target[] = [];
  for await (const page of pages) {
    const targets = page.flatMap((member) =>
      member.connectionIds
        .filter((id) => id !== options.except)
        .map((connectionId) => ({ userId: member.userId, name: member.name, connectionId })),
    );
    const report = await deliver(services, targets, payload);
    delivered += report.delivered;
    failed += report.failed;
    gone.push(...report.gone);
  }
  const pruneFailed = await prune(services, gone, room, options.depth ?? 0);
  return { delivered, gone: gone.length, failed, pruneFailed };
}

/** Posts one payload to each target; returns the counts and the targets found gone. */
export async function deliver(
  services: Services,
  targets: readonly Target[],
  payload: string,
): Promise<{ delivered: number; failed: number; gone: Target[] }> {
  let delivered = 0;
  const gone: Target[] = [];
  const failures = await forEachBounded(targets, FAN_OUT_CONCURRENCY, async (target) => {
    const result = await services.notifier.post(target.connectionId, payload);
    if (result === 'gone') gone.push(target);
    else delivered++;
  });
  return { delivered, failed: failures.length, gone };
}

/**
 * API Gateway answers 410 to posts while a connection's `$connect` runs (up to
 * its 29-second integration timeout), after `$connect` has recorded it; a
 * younger record that answers gone may be opening, so pruning leaves it (TTL
 * and later fan-outs remove it if it really is gone).
 */
export const CONNECT_GRACE_MS = 30_000;

/**
 * Removes gone connections' records; `room` is where they were found, in case
 * their record is gone too. A removal that fails is left for the next fan-out
 * or the sweeper: the request that found the connection gone has done its
 * work, and must not answer `internal` for someone else's cleanup.
 * Returns how many removals failed.
 */
export async function prune(
  services: Services,
  gone: readonly Target[],
  room: string | undefined,
  depth: number,
): Promise<number> {
  const connectedBefore = services.clock() - CONNECT_GRACE_MS;
  let failed = 0;
  for (const target of gone) {
    try {
      await departConnection(services, target, target, {
        alsoRooms: room === undefined ? [] : [room],
        depth: depth + 1,
        connectedBefore,
      });
    } catch {
      failed++;
    }
  }
  return failed;
}

/** Whether a departure at this depth still announces presence leaves. */
export function announcesAt(depth: number): boolean {
  return depth <= MAX_PRUNE_DEPTH;
}
