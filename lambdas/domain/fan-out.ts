import { stringifyJson } from '../../protocol/json.js';
import type { ServerFrame } from '../../protocol/messages.js';
import { forEachBounded } from './concurrency.js';
import { recordFanOut } from './delivery-metrics.js';
import { handOffGone } from './gone-handoff.js';
import type { DeliveryReport, DeliveryWorkers, Member, Services, Target } from './ports.js';

export type { Target } from './ports.js';

/** What a fan-out did. */
export interface FanOutReport {
  readonly delivered: number;
  /** Connections found gone, handed to the `prune` function. */
  readonly gone: number;
  /** Posts that failed after retries; those members recover through `history`. */
  readonly failed: number;
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

export interface BroadcastOptions {
  /** A connection not to deliver to (the sender, for frames that exclude it). */
  readonly except?: string;
  /** Members already read, to save a query. */
  readonly members?: readonly Member[];
}

/**
 * Delivers a frame to every connection in the room and hands the ones found
 * gone to the `prune` function, waiting for neither their removal nor any
 * announcement: a request does its own work only. One slow or gone member
 * never stops delivery to the others.
 */
export async function broadcast(
  services: Services,
  room: string,
  frame: ServerFrame,
  options: BroadcastOptions = {},
): Promise<FanOutReport> {
  const startedAt = performance.now();
  const postedAt = services.clock();
  const report = await fanOut(services, room, frame, options);
  recordFanOut(services, report, startedAt);
  await handOffGone(
    services,
    report.gone.map((target) => ({ ...target, room, postedAt })),
  );
  return { delivered: report.delivered, gone: report.gone.length, failed: report.failed };
}

/** Every member of the room, all pages read. */
export async function readMembers(services: Services, room: string): Promise<Member[]> {
  const members: Member[] = [];
  for await (const page of services.rooms.memberPages(room)) members.push(...page);
  return members;
}

/**
 * Delivers a frame to every connection in the room and returns the gone ones,
 * handing over nothing. Every page is read before the first post, so a large room
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
export function deliver(
  services: Pick<Services, 'notifier'>,
  targets: readonly Target[],
  payload: string,
): Promise<DeliveryReport> {
  return deliverEach(
    services,
    targets.map((target) => ({ target, payload })),
  );
}

/** One post: a payload for one connection. */
export interface Post {
  readonly target: Target;
  readonly payload: string;
}

/** Posts each payload to its target from this function, as `deliver` does. */
export async function deliverEach(
  services: Pick<Services, 'notifier'>,
  posts: readonly Post[],
): Promise<DeliveryReport> {
  let delivered = 0;
  const gone: Target[] = [];
  const failures = await forEachBounded(
    posts,
    FAN_OUT_CONCURRENCY,
    async ({ target, payload }) => {
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
