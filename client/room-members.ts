import type { PresenceFrame, User } from '../protocol/messages.js';

/** A change of one room's member list: the `presence` event without its room. */
export interface MemberChange {
  readonly members: User[];
  readonly joined: User[];
  readonly left: User[];
  readonly event?: PresenceFrame;
}

/** What a {@link RoomMembers} needs. */
export interface RoomMembersOptions {
  /** The client's own user id, when its token tells it: always a member while joined. */
  readonly self: () => string | undefined;
  /** Reports a change, after it is made. */
  readonly changed: (change: MemberChange) => void;
}

/**
 * One room's member list, kept as PROTOCOL.md section 4.1 says: each `joined`
 * reply sets it, then presence frames change it in the order received (add
 * each user of `joined` not yet listed, remove each user of `left`).
 *
 * Presence is announced asynchronously, so a frame can overtake the reply to
 * the join that made this connection a member, and the reply's members would
 * then undo it. While a join (first, repeated, or the rejoin after a
 * reconnect) waits for its reply, frames are held, and they are applied in
 * order right after the reply has set the list.
 */
export class RoomMembers {
  private list = new Map<string, User>();
  /** Whether a `joined` reply has set the list: held frames are dropped if none ever does. */
  private listed = false;
  /** Joins sent and neither answered nor failed. */
  private awaiting = 0;
  /** Frames received while a join was awaited, in order. */
  private held: PresenceFrame[] = [];
  /** How many of `held` are applied to the list the last reply set. */
  private applied = 0;
  private disposed = false;

  constructor(private readonly options: RoomMembersOptions) {}

  /** The members, each once, in the order they were listed. */
  get users(): User[] {
    return [...this.list.values()];
  }

  /** A join is on its way: frames wait for its reply. Pair every call with {@link settled}. */
  joining(): void {
    if (!this.disposed) this.awaiting += 1;
  }

  /** A `joined` reply: its members replace the list, then every frame held is applied again. */
  joined(members: readonly User[]): void {
    if (this.disposed) return;
    const before = this.list;
    this.list = new Map(usersOf(members).map((user) => [user.userId, user]));
    this.listed = true;
    this.applied = 0;
    this.options.changed({
      members: this.users,
      joined: [...this.list.values()].filter((user) => !before.has(user.userId)),
      left: [...before.values()].filter((user) => !this.list.has(user.userId)),
    });
    this.applyHeld();
  }

  /** A presence frame of this room: applied now, or held while a join is awaited. */
  presence(frame: PresenceFrame): void {
    if (this.disposed) return;
    if (this.awaiting > 0) this.held.push(frame);
    else this.apply(frame);
  }

  /**
   * A join was answered or failed. Once no join is awaited, the frames still
   * held are applied to the list, or dropped when no reply ever set one (a
   * first join that failed).
   */
  settled(): void {
    if (this.disposed || this.awaiting === 0) return;
    this.awaiting -= 1;
    if (this.awaiting > 0) return;
    if (this.listed) this.applyHeld();
    this.held = [];
    this.applied = 0;
  }

  /**
   * The connection dropped: the frames it brought are older than the members
   * the rejoin will report, and applied after them they could undo a change
   * this connection never hears of again.
   */
  disconnected(): void {
    this.held = [];
    this.applied = 0;
  }

  /** Stops for good (the room was left, or its join failed): nothing more is reported. */
  dispose(): void {
    this.disposed = true;
    this.list.clear();
    this.held = [];
  }

  private applyHeld(): void {
    while (!this.disposed && this.applied < this.held.length) {
      const frame = this.held[this.applied] as PresenceFrame;
      this.applied += 1;
      this.apply(frame);
    }
  }

  /** Applies a frame; reports it only when it changed the list (a frame may repeat a change). */
  private apply(frame: PresenceFrame): void {
    const self = this.options.self();
    const joined: User[] = [];
    const left: User[] = [];
    for (const user of usersOf(frame.joined)) {
      if (user.userId === self || this.list.has(user.userId)) continue;
      this.list.set(user.userId, user);
      joined.push(user);
    }
    for (const user of usersOf(frame.left)) {
      const listed = this.list.get(user.userId);
      if (user.userId === self || listed === undefined) continue;
      this.list.delete(user.userId);
      left.push(listed);
    }
    if (joined.length === 0 && left.length === 0) return;
    this.options.changed({ members: this.users, joined, left, event: frame });
  }
}

/** The well-formed users of a list; nothing for anything else (a v1 frame has no lists). */
function usersOf(value: unknown): User[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (user): user is User =>
      typeof user === 'object' &&
      user !== null &&
      typeof (user as { userId?: unknown }).userId === 'string',
  );
}
