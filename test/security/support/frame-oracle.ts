import { expect } from 'vitest';
import {
  ACTIONS,
  ERROR_CODES,
  type ErrorCode,
  ROOM_PATTERN,
  type User,
} from '../../../protocol/messages.js';
import type { Frame } from '../../integration/support/ws-client.js';

/** A connection the test opened, with the rooms it knows the connection is in. */
export interface KnownConnection {
  readonly connectionId: string;
  readonly user: User;
  /** The token's `rooms` claim; `null` when absent. */
  readonly claim: readonly string[] | null;
  readonly rooms: Set<string>;
}

/** A message the test knows was stored. */
export interface Stored {
  readonly seq: number;
  readonly from: User;
  /** The JSON text of its `data`. */
  readonly data: string;
}

/** What may answer one frame. */
export interface Expectation {
  /** The id every answer echoes; none when undefined. */
  readonly id: string | undefined;
  /** Error codes that are right answers. */
  readonly codes: readonly ErrorCode[];
  /** Checks a reply that is not an error and records its effect. */
  readonly reply?: (frame: Frame) => void;
  /** An unasked frame to the sender itself that shows a request without reply succeeded. */
  readonly confirm?: (frame: Frame) => boolean;
  readonly onConfirm?: () => void;
  /** No answer at all is right. */
  readonly silent: boolean;
  /** Attacker text the server may quote in an error message. */
  readonly echoes: readonly string[];
}

/** Frames the server sends unasked; any other frame answers a request. */
export const UNASKED = new Set(['message', 'presence', 'typing', 'direct']);

/**
 * What an error message must not contain once the attacker's own text it may
 * quote is removed: stack lines, file paths, error class names, AWS and runtime names.
 */
const LEAKS: readonly RegExp[] = [
  /\n\s*at\s/,
  /\bat\s+[\w$.<>[\]]+\s+\(/,
  /(?:^|[\s"'(=])\/(?:[\w.@-]+\/)+/,
  /[A-Za-z]:\\/,
  /\.(?:[cm]?js|ts)\b/,
  /node_modules/,
  /\w*(?:Error|Exception)\b/,
  /\b(?:Dynamo\w*|Lambda|AWS|aws-sdk|arn:aws|ConditionalCheck\w*|Throttl\w*|Gone\w*)\b/i,
  /\b(?:TABLE_NAME|requestId|connectionId|stack|undefined|null|NaN|\[object)\b/,
];

type Fields = Record<string, unknown>;

const isFields = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const validId = (id: unknown) =>
  typeof id === 'string' && id.length >= 1 && id.length <= 64 ? id : undefined;

const isRoom = (room: unknown): room is string =>
  typeof room === 'string' && ROOM_PATTERN.test(room);

/** The `rooms` claim's rule of PROTOCOL.md section 1, written out again. */
export const roomAllowed = (claim: readonly string[] | null, room: string) =>
  claim === null ||
  claim.some((pattern) =>
    pattern.endsWith('*') ? room.startsWith(pattern.slice(0, -1)) : pattern === room,
  );

const optionalInteger = (value: unknown, min: number, max: number) =>
  value === undefined ||
  (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max);

/** The field rules of PROTOCOL.md section 4, written out again. */
function fieldsValid(action: string, f: Fields): boolean {
  const hasData = 'data' in f && f.data !== undefined;
  switch (action) {
    case 'join':
    case 'leave':
    case 'typing':
      return isRoom(f.room);
    case 'send':
      return isRoom(f.room) && hasData;
    case 'direct':
      return typeof f.to === 'string' && f.to.length >= 1 && f.to.length <= 128 && hasData;
    case 'history':
      return (
        isRoom(f.room) &&
        optionalInteger(f.after, 0, Number.MAX_SAFE_INTEGER) &&
        optionalInteger(f.limit, 1, 100)
      );
    case 'auth':
      return typeof f.token === 'string' && f.token.length > 0;
    default:
      return true;
  }
}

/**
 * Knows, from PROTOCOL.md alone, what may answer a frame sent on one of the
 * test's connections, given what the test has seen succeed so far (rooms
 * joined, messages stored). Requests must go one at a time for this to hold.
 */
export class FrameOracle {
  /** Messages per room, in seq order. */
  readonly stored = new Map<string, Stored[]>();
  readonly #senders: readonly KnownConnection[];
  readonly #users: ReadonlyMap<string, User>;

  /**
   * @param senders the connections frames are sent on
   * @param tokens the valid tokens among those `auth` may carry, with their sub and exp
   */
  constructor(
    senders: readonly KnownConnection[],
    private readonly tokens: ReadonlyMap<string, { sub: string; exp: number }>,
    private readonly maxDataBytes: number,
  ) {
    this.#senders = senders;
    this.#users = new Map(senders.map((sender) => [sender.user.userId, sender.user]));
  }

  storedIn(room: string): readonly Stored[] {
    return this.stored.get(room) ?? [];
  }

  /** What may answer `text` sent on `sender`. */
  predict(text: string, sender: KnownConnection): Expectation {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return refused(['bad_request']);
    }
    if (!isFields(value)) return refused(['bad_request']);
    const f = value;
    const id = validId(f.id);
    const echoes = [
      typeof f.action === 'string' ? f.action.slice(0, 64) : '',
      typeof f.room === 'string' ? f.room : '',
    ].filter((echo) => echo.length > 0);
    const action = f.action;
    if (typeof action !== 'string' || !(ACTIONS as readonly string[]).includes(action)) {
      return refused(['unknown_action'], id, echoes);
    }
    if (f.id !== undefined && id === undefined) return refused(['bad_request'], undefined, echoes);
    if (!fieldsValid(action, f)) return refused(['bad_request'], id, echoes);
    const data = JSON.stringify(f.data);
    if ((action === 'send' || action === 'direct') && Buffer.byteLength(data) > this.maxDataBytes) {
      return refused(['too_large'], id, echoes);
    }

    const withId = id === undefined ? {} : { id };
    const room = f.room as string;
    const allowed = isRoom(f.room) && roomAllowed(sender.claim, room);
    // Rate limiting outranks the room checks (PROTOCOL.md section 6).
    const roomRefusal = (): ErrorCode[] | undefined =>
      !allowed
        ? ['forbidden', 'rate_limited']
        : !sender.rooms.has(room)
          ? ['not_member', 'rate_limited']
          : undefined;
    const base = { id, echoes, silent: false, codes: ['rate_limited'] as ErrorCode[] };

    switch (action) {
      case 'ping':
        return {
          ...base,
          reply: (reply) =>
            expect(reply).toEqual({ type: 'pong', ...withId, ts: expect.any(Number) }),
        };
      case 'join':
        if (!allowed) return { ...base, codes: ['forbidden', 'rate_limited'] };
        return {
          ...base,
          reply: (reply) => {
            sender.rooms.add(room);
            expect(reply).toEqual({
              type: 'joined',
              ...withId,
              room,
              members: expect.any(Array),
              seq: this.storedIn(room).length,
            });
            const members = reply.members as Frame[];
            for (const member of members) {
              expect(member).toEqual(this.#users.get(String(member.userId)));
            }
            expect(members.map((member) => member.userId).sort()).toEqual(this.#membersOf(room));
          },
        };
      case 'leave':
        return {
          ...base,
          reply: (reply) => {
            sender.rooms.delete(room);
            expect(reply).toEqual({ type: 'left', ...withId, room });
          },
        };
      case 'send': {
        const refusal = roomRefusal();
        if (refusal !== undefined) return { ...base, codes: refusal };
        const seq = this.storedIn(room).length + 1;
        const store = () =>
          this.stored.set(room, [...this.storedIn(room), { seq, from: sender.user, data }]);
        if (id === undefined) {
          return {
            ...base,
            // The sender's own copy of the message shows the send went through.
            confirm: (frame) =>
              frame.type === 'message' &&
              frame.room === room &&
              frame.seq === seq &&
              (frame.from as Frame | undefined)?.userId === sender.user.userId,
            onConfirm: store,
          };
        }
        return {
          ...base,
          reply: (reply) => {
            expect(reply).toEqual({ type: 'ack', id, room, seq });
            store();
          },
        };
      }
      case 'typing': {
        const refusal = roomRefusal();
        if (refusal !== undefined) return { ...base, codes: refusal };
        return { ...base, silent: true };
      }
      case 'direct': {
        const to = f.to as string;
        if (id !== undefined) {
          const delivered = this.#senders.filter((known) => known.user.userId === to).length;
          return {
            ...base,
            reply: (reply) => expect(reply).toEqual({ type: 'ack', id, delivered }),
          };
        }
        if (to !== sender.user.userId) return { ...base, silent: true };
        return {
          ...base,
          confirm: (frame) =>
            frame.type === 'direct' &&
            (frame.from as Frame | undefined)?.userId === sender.user.userId &&
            JSON.stringify(frame.data) === data,
        };
      }
      case 'history': {
        const refusal = roomRefusal();
        if (refusal !== undefined) return { ...base, codes: refusal };
        const after = (f.after as number | undefined) ?? 0;
        const limit = (f.limit as number | undefined) ?? 50;
        const newer = this.storedIn(room).filter((message) => message.seq > after);
        return {
          ...base,
          reply: (reply) => {
            expect(reply).toEqual({
              type: 'history',
              ...withId,
              room,
              messages: expect.any(Array),
              hasMore: expect.any(Boolean),
            });
            const messages = reply.messages as Frame[];
            const page = newer.slice(0, limit);
            // A page too big for one frame is cut short, and says so.
            expect(messages.length).toBeLessThanOrEqual(page.length);
            expect(reply.hasMore).toBe(newer.length > messages.length);
            for (const [index, message] of messages.entries()) {
              this.expectStored(message, room, page[index]?.seq);
            }
          },
        };
      }
      case 'auth': {
        const token = this.tokens.get(f.token as string);
        if (token === undefined) return { ...base, codes: ['unauthorized', 'rate_limited'] };
        if (token.sub !== sender.user.userId) {
          return { ...base, codes: ['forbidden', 'rate_limited'] };
        }
        return {
          ...base,
          reply: (reply) => expect(reply).toEqual({ type: 'authed', ...withId, exp: token.exp }),
        };
      }
      default:
        throw new Error(`no expectation for ${action}`);
    }
  }

  /** Asserts a protocol error frame that `expected` allows, telling nothing of the internals. */
  expectProtocolError(reply: Frame, expected: Expectation): void {
    expect(reply).toEqual({
      type: 'error',
      ...(expected.id === undefined ? {} : { id: expected.id }),
      code: expect.any(String),
      message: expect.any(String),
    });
    expect(ERROR_CODES).toContain(reply.code);
    expect(expected.codes).toContain(reply.code);
    const message = String(reply.message);
    expect(message.length).toBeLessThanOrEqual(200);
    const own = expected.echoes.reduce((text, echo) => text.replaceAll(echo, ''), message);
    for (const leak of LEAKS) expect(own, `error message "${message}"`).not.toMatch(leak);
  }

  /** Asserts a message frame that is, exactly, the stored message `seq` of `room`. */
  expectStored(message: Frame, room: string, seq: unknown): void {
    const known = this.storedIn(room).find((candidate) => candidate.seq === seq);
    const shown = JSON.stringify(message).slice(0, 300);
    expect(known, `message ${shown} was never sent`).toBeDefined();
    const { data, ...envelope } = message;
    expect(envelope).toEqual({
      type: 'message',
      room,
      seq: known?.seq,
      from: known?.from,
      ts: expect.any(Number),
    });
    expect(JSON.stringify(data)).toBe(known?.data);
  }

  /** Asserts a frame the server sent unasked: well-formed, from a sender, of a stored message. */
  expectUnasked(received: Frame): void {
    const shown = JSON.stringify(received).slice(0, 300);
    expect(UNASKED.has(String(received.type)), `unasked ${shown}`).toBe(true);
    const user = (field: unknown) => this.#users.get(String((field as Frame | undefined)?.userId));
    switch (received.type) {
      case 'message':
        this.expectStored(received, String(received.room), received.seq);
        break;
      case 'presence':
        expect(received).toEqual({
          type: 'presence',
          room: expect.stringMatching(ROOM_PATTERN),
          joined: ((received.joined ?? []) as unknown[]).map(user),
          left: ((received.left ?? []) as unknown[]).map(user),
        });
        break;
      case 'typing':
        expect(received).toEqual({
          type: 'typing',
          room: expect.stringMatching(ROOM_PATTERN),
          user: user(received.user),
        });
        break;
      case 'direct': {
        const { data, ...envelope } = received;
        expect(data).not.toBeUndefined();
        expect(envelope).toEqual({
          type: 'direct',
          from: user(received.from),
          ts: expect.any(Number),
        });
        break;
      }
    }
  }

  /** User ids in a room, as the test's record of joins and leaves has them. */
  #membersOf(room: string): string[] {
    const inRoom = this.#senders.filter((known) => known.rooms.has(room));
    return [...new Set(inRoom.map((known) => known.user.userId))].sort();
  }
}

function refused(codes: ErrorCode[], id?: string, echoes: string[] = []): Expectation {
  return { id, codes, silent: false, echoes };
}
