import { METRIC } from '../shared/metric-names.js';
import { forEachBounded } from './concurrency.js';
import { recordFanOut } from './delivery-metrics.js';
import { deliverEach, deliverToMany, type Post, readMembers } from './fan-out.js';
import { handOffGone } from './gone-handoff.js';
import type { DeliveryReport, Services, Target } from './ports.js';
import {
  coalesce,
  type MembershipChange,
  presencePayloads,
  type RoomPresence,
} from './presence.js';

/** Rooms announced at once by one invocation. */
const ROOMS_IN_FLIGHT = 4;

/** What announcing a batch of membership changes did. */
export interface AnnouncementReport {
  /** Rooms whose changes reached their members. */
  readonly announced: number;
  /**
   * The first position of each room whose announcement failed (its members
   * could not be read): the batch is to be resumed from the lowest of them.
   */
  readonly failedFrom: readonly string[];
  /** The positions of the rooms announced, so a resumed batch can skip them. */
  readonly announcedPositions: readonly string[];
}

/**
 * Announces a batch of membership changes from the table's stream: per room,
 * one coalesced `presence` frame to every member's connections (a tailored
 * one to the members whose own user changed, which a frame never names), and
 * the connections found gone handed to the `prune` function. Rooms are
 * independent: one that fails is reported for a retry while the others are
 * announced.
 */
export async function announcePresence(
  services: Services,
  changes: readonly MembershipChange[],
): Promise<AnnouncementReport> {
  const rooms = coalesce(changes);
  const failedFrom: string[] = [];
  const announcedPositions: string[] = [];
  const failures = await forEachBounded(rooms, ROOMS_IN_FLIGHT, async (presence) => {
    try {
      await announceRoom(services, presence);
      announcedPositions.push(...presence.positions);
    } catch (error) {
      const [first] = presence.positions;
      if (first !== undefined) failedFrom.push(first);
      throw error;
    }
  });
  return { announced: rooms.length - failures.length, failedFrom, announcedPositions };
}

/** Posts one room's coalesced changes to each of its members' connections. */
async function announceRoom(services: Services, presence: RoomPresence): Promise<void> {
  const startedAt = performance.now();
  const postedAt = services.clock();
  const members = await readMembers(services, presence.room);
  const changed = new Set([...presence.joined, ...presence.left].map((user) => user.userId));
  const everyone: Target[] = [];
  // Members whose own user changed get frames without it: few, each its own payload.
  const tailored: Post[] = [];
  for (const member of members) {
    const targets = member.connectionIds.map((connectionId) => ({
      userId: member.userId,
      name: member.name,
      connectionId,
    }));
    if (!changed.has(member.userId)) {
      everyone.push(...targets);
      continue;
    }
    const payloads = presencePayloads(presence, member.userId);
    tailored.push(...targets.flatMap((target) => payloads.map((payload) => ({ target, payload }))));
  }
  // Each user is in one frame of a window only, so its frames need no order.
  const reports: DeliveryReport[] = await Promise.all([
    ...presencePayloads(presence).map((payload) => deliverToMany(services, everyone, payload)),
    deliverEach(services, tailored),
  ]);
  const report: DeliveryReport = {
    delivered: reports.reduce((sum, each) => sum + each.delivered, 0),
    failed: reports.reduce((sum, each) => sum + each.failed, 0),
    gone: reports.flatMap((each) => each.gone),
  };
  recordFanOut(services, report, startedAt);
  services.metrics?.count(METRIC.presenceFrames, report.delivered);
  await handOffGone(
    services,
    report.gone.map((target) => ({ ...target, room: presence.room, postedAt })),
  );
}
