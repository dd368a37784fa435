import { stringifyJson } from '../../protocol/json.js';
import type { PresenceFrame, User } from '../../protocol/messages.js';

/** A user's arrival in a room or departure from it, as the membership records show it. */
export interface MembershipChange {
  readonly room: string;
  readonly user: User;
  /** True for an arrival (the user's first connection in the room), false for a departure. */
  readonly present: boolean;
  /** Where the change is in the stream (its sequence number), to resume from after a failure. */
  readonly position: string;
}

/** One room's changes of a window, coalesced: each user once, as they stand at its end. */
export interface RoomPresence {
  readonly room: string;
  readonly joined: readonly User[];
  readonly left: readonly User[];
  /** The positions of the changes coalesced, in stream order. */
  readonly positions: readonly string[];
}

/**
 * A presence frame stays within one 32 KB unit, the size API Gateway bills a
 * message by; a window with more changes than fit goes out as several frames.
 */
export const MAX_PRESENCE_FRAME_BYTES = 32 * 1024;

/**
 * Coalesces changes (in stream order) per room: a user's last change decides
 * whether it is in `joined` or `left`, so a user is in at most one list
 * (PROTOCOL.md section 4.1). A user who arrived and departed within the
 * window is announced as departed, not left out: a member that joined
 * meanwhile may have been answered with that user among its `members`.
 */
export function coalesce(changes: readonly MembershipChange[]): RoomPresence[] {
  const rooms = new Map<string, { users: Map<string, MembershipChange>; positions: string[] }>();
  for (const change of changes) {
    const room = rooms.get(change.room) ?? {
      users: new Map<string, MembershipChange>(),
      positions: [] as string[],
    };
    // Deleted first, so that the map's order is that of each user's last change.
    room.users.delete(change.user.userId);
    room.users.set(change.user.userId, change);
    room.positions.push(change.position);
    rooms.set(change.room, room);
  }
  return [...rooms].map(([room, { users, positions }]) => {
    const last = [...users.values()];
    return {
      room,
      joined: last.filter((change) => change.present).map((change) => change.user),
      left: last.filter((change) => !change.present).map((change) => change.user),
      positions,
    };
  });
}

/**
 * The serialized frames a member `recipient` (a user id) gets for a room's
 * changes: never naming its own user, none when nothing is left to tell it
 * (PROTOCOL.md section 4.1), split so that each stays within
 * MAX_PRESENCE_FRAME_BYTES.
 */
export function presencePayloads(presence: RoomPresence, recipient?: string): string[] {
  const others = (users: readonly User[]) => users.filter((user) => user.userId !== recipient);
  const entries = [
    ...others(presence.joined).map((user) => ({ list: 'joined' as const, user })),
    ...others(presence.left).map((user) => ({ list: 'left' as const, user })),
  ];
  const payloads: string[] = [];
  let frame: PresenceFrame = { type: 'presence', room: presence.room, joined: [], left: [] };
  let bytes = byteLength(frame);
  for (const entry of entries) {
    // Each entry costs its JSON and a comma.
    const cost = byteLength(entry.user) + 1;
    if (bytes + cost > MAX_PRESENCE_FRAME_BYTES && frame.joined.length + frame.left.length > 0) {
      payloads.push(stringifyJson(frame));
      frame = { type: 'presence', room: presence.room, joined: [], left: [] };
      bytes = byteLength(frame);
    }
    frame[entry.list].push(entry.user);
    bytes += cost;
  }
  if (frame.joined.length + frame.left.length > 0) payloads.push(stringifyJson(frame));
  return payloads;
}

const encoder = new TextEncoder();

function byteLength(value: unknown): number {
  return encoder.encode(stringifyJson(value)).length;
}
