/**
 * The contract of the `publish` function, which other backends invoke with IAM
 * (Lambda's Invoke API, not a WebSocket route) to send to a room or a user:
 * the payload it takes, the result it answers, and the payload's validation.
 * Shared by the function and the typed helper in publish/, so it uses neither
 * Node nor DOM APIs.
 */
import type { ErrorCode, User } from './messages.js';
import { dataProblem, roomProblem, userIdProblem } from './validate.js';

/**
 * Who a publish is from when the caller names no one. Members see it as the
 * `from` of the message like any user; a caller that speaks for a person or
 * a service of its own names it in `from`.
 */
export const SYSTEM_USER: User = { userId: 'system', name: 'System' };

/** Characters a publish's `from.name` may have. */
export const MAX_NAME_LENGTH = 128;

/** A publish to a room: stored with the room's next seq, delivered to every member. */
export interface PublishToRoomInput {
  readonly room: string;
  readonly user?: never;
  /** Any JSON value, at most `MAX_DATA_BYTES` serialized. */
  readonly data: unknown;
  /** @default SYSTEM_USER */
  readonly from?: User;
}

/** A publish to a user: a `direct` frame to every open connection of that user. */
export interface PublishToUserInput {
  /** The user id (a token's `sub`). */
  readonly user: string;
  readonly room?: never;
  /** Any JSON value, at most `MAX_DATA_BYTES` serialized. */
  readonly data: unknown;
  /** @default SYSTEM_USER */
  readonly from?: User;
}

/** The payload `publish` is invoked with: exactly one of `room` or `user`. */
export type PublishInput = PublishToRoomInput | PublishToUserInput;

/** A validated publish, its sender settled. */
export type PublishRequest =
  | { readonly room: string; readonly data: unknown; readonly from: User }
  | { readonly user: string; readonly data: unknown; readonly from: User };

/** What a publish to a room did: its seq, and the connections it reached. */
export interface PublishedToRoom {
  readonly ok: true;
  readonly room: string;
  readonly seq: number;
  readonly delivered: number;
}

/** What a publish to a user did: the connections it reached (0 when none is open). */
export interface PublishedToUser {
  readonly ok: true;
  readonly delivered: number;
}

/** A refused publish, which changed nothing; programs branch on `code`. */
export interface PublishRefused {
  readonly ok: false;
  readonly error: { readonly code: ErrorCode; readonly message: string };
}

/** What `publish` answers. A failure that is not a refusal is a function error instead. */
export type PublishResult = PublishedToRoom | PublishedToUser | PublishRefused;

/** The outcome of validating a publish payload. */
export type ParsedPublish =
  | { readonly ok: true; readonly request: PublishRequest }
  | {
      readonly ok: false;
      readonly problem: { readonly code: 'bad_request'; readonly message: string };
    };

const FIELDS: ReadonlySet<string> = new Set(['room', 'user', 'data', 'from']);
const USER_FIELDS: ReadonlySet<string> = new Set(['userId', 'name']);

type Fields = Record<string, unknown>;

/**
 * Validates a publish payload as requests are validated (PROTOCOL.md sections
 * 3, 4 and 6): unknown fields, the target, `data` and `from`. The size of
 * `data` is checked by the function, against its configured `MAX_DATA_BYTES`.
 */
export function parsePublishRequest(payload: unknown): ParsedPublish {
  if (!isObject(payload)) return refuse('The payload must be a JSON object.');
  const problem =
    unknownFieldsProblem(payload, FIELDS, 'the payload') ??
    targetProblem(payload) ??
    dataProblem(payload) ??
    fromProblem(payload.from);
  if (problem !== undefined) return refuse(problem);
  const from = (payload.from as User | undefined) ?? SYSTEM_USER;
  const sender = { userId: from.userId, name: from.name };
  return {
    ok: true,
    request:
      payload.room !== undefined
        ? { room: payload.room as string, data: payload.data, from: sender }
        : { user: payload.user as string, data: payload.data, from: sender },
  };
}

function targetProblem(payload: Fields): string | undefined {
  const hasRoom = payload.room !== undefined;
  if (hasRoom === (payload.user !== undefined)) {
    return 'Give exactly one target: room or user.';
  }
  return hasRoom ? roomProblem(payload.room) : userIdProblem(payload.user, 'user');
}

function fromProblem(from: unknown): string | undefined {
  if (from === undefined) return undefined;
  if (!isObject(from)) return 'from must be an object with userId and name.';
  return (
    unknownFieldsProblem(from, USER_FIELDS, 'from') ??
    userIdProblem(from.userId, 'from.userId') ??
    (typeof from.name === 'string' && from.name.length >= 1 && from.name.length <= MAX_NAME_LENGTH
      ? undefined
      : `from.name must be a string of 1 to ${MAX_NAME_LENGTH} characters.`)
  );
}

// A misspelt field (`rooom`, `date`) is refused rather than ignored, so a
// caller never believes it set something the function did not use.
function unknownFieldsProblem(
  fields: Fields,
  allowed: ReadonlySet<string>,
  where: string,
): string | undefined {
  const unknown = Object.keys(fields).filter((name) => !allowed.has(name));
  if (unknown.length === 0) return undefined;
  const names = unknown
    .slice(0, 3)
    .map((name) => JSON.stringify(name.slice(0, 64)))
    .join(', ');
  return `Unknown field${unknown.length > 1 ? 's' : ''} in ${where}: ${names}${unknown.length > 3 ? ', ...' : ''}.`;
}

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refuse(message: string): ParsedPublish {
  return { ok: false, problem: { code: 'bad_request', message } };
}
