import { stringifyJson } from './json.js';
import {
  type Action,
  type ClientRequest,
  type ErrorCode,
  isAction,
  LIMITS,
  ROOM_PATTERN,
} from './messages.js';

/** Why a frame was refused before any work was done. */
export interface FrameProblem {
  readonly code: Extract<ErrorCode, 'bad_request' | 'unknown_action'>;
  readonly message: string;
  /** The request id, echoed when it was itself valid. */
  readonly id?: string;
}

/** The outcome of parsing one client frame. */
export type ParsedFrame =
  | { readonly ok: true; readonly request: ClientRequest }
  | { readonly ok: false; readonly problem: FrameProblem };

type Fields = Record<string, unknown>;

/**
 * Parses and validates one client frame (PROTOCOL.md sections 2 to 4 and 6).
 * Checks `unknown_action` before `bad_request`, as section 6 orders them.
 */
export function parseFrame(text: string): ParsedFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('bad_request', 'The frame is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('bad_request', 'The frame must be a JSON object.');
  }
  const fields = value as Fields;
  const id = validId(fields.id);
  if (!isAction(fields.action)) {
    return fail('unknown_action', describeUnknownAction(fields.action), id);
  }
  if (fields.id !== undefined && id === undefined) {
    return fail('bad_request', 'id must be a string of 1 to 64 characters.');
  }
  const problem = FIELD_CHECKS[fields.action](fields);
  if (problem !== undefined) return fail('bad_request', problem, id);
  return { ok: true, request: build(fields.action, fields, id) };
}

/** The UTF-8 byte length of a value's JSON serialization (how `data` is measured). */
export function serializedSize(value: unknown): number {
  return utf8Length(stringifyJson(value));
}

/** UTF-8 byte length of a string, without Node or DOM APIs. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

function fail(code: FrameProblem['code'], message: string, id?: string): ParsedFrame {
  return { ok: false, problem: id === undefined ? { code, message } : { code, message, id } };
}

function describeUnknownAction(action: unknown): string {
  if (action === undefined) return 'The frame has no action.';
  if (typeof action !== 'string') return 'action must be a string.';
  return `Unknown action "${action.slice(0, 64)}".`;
}

function validId(id: unknown): string | undefined {
  return typeof id === 'string' && id.length >= 1 && id.length <= LIMITS.maxIdLength
    ? id
    : undefined;
}

/** Why `room` is not a room name (PROTOCOL.md section 3); `undefined` when it is one. */
export function roomProblem(room: unknown): string | undefined {
  if (typeof room !== 'string' || !ROOM_PATTERN.test(room)) {
    return 'room must match ^[A-Za-z0-9_.:-]{1,64}$.';
  }
  return undefined;
}

/** Why `fields` lacks a `data` value; `undefined` when it has one. */
export function dataProblem(fields: Fields): string | undefined {
  // `null` is a value; only a missing field is refused.
  return 'data' in fields && fields.data !== undefined ? undefined : 'data is required.';
}

/** Why `value`, named `field` in messages, is not a user id (PROTOCOL.md section 3). */
export function userIdProblem(value: unknown, field: string): string | undefined {
  if (typeof value !== 'string' || value.length < 1 || value.length > LIMITS.maxUserIdLength) {
    return `${field} must be a user id of 1 to ${LIMITS.maxUserIdLength} characters.`;
  }
  return undefined;
}

function integerProblem(value: unknown, name: string, min: number, max: number) {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return `${name} must be an integer from ${min} to ${max}.`;
  }
  return undefined;
}

const FIELD_CHECKS: Record<Action, (fields: Fields) => string | undefined> = {
  join: (f) => roomProblem(f.room),
  leave: (f) => roomProblem(f.room),
  typing: (f) => roomProblem(f.room),
  send: (f) => roomProblem(f.room) ?? dataProblem(f),
  direct: (f) => userIdProblem(f.to, 'to') ?? dataProblem(f),
  history: (f) =>
    roomProblem(f.room) ??
    integerProblem(f.after, 'after', 0, Number.MAX_SAFE_INTEGER) ??
    integerProblem(f.limit, 'limit', 1, LIMITS.maxHistoryLimit),
  auth: (f) =>
    typeof f.token === 'string' && f.token.length > 0 ? undefined : 'token must be a string.',
  ping: () => undefined,
};

function build(action: Action, f: Fields, id: string | undefined): ClientRequest {
  const withId = id === undefined ? {} : { id };
  switch (action) {
    case 'join':
    case 'leave':
    case 'typing':
      return { action, ...withId, room: f.room as string };
    case 'send':
      return { action, ...withId, room: f.room as string, data: f.data };
    case 'direct':
      return { action, ...withId, to: f.to as string, data: f.data };
    case 'history':
      return {
        action,
        ...withId,
        room: f.room as string,
        after: (f.after as number | undefined) ?? 0,
        limit: (f.limit as number | undefined) ?? LIMITS.defaultHistoryLimit,
      };
    case 'auth':
      return { action, ...withId, token: f.token as string };
    case 'ping':
      return { action, ...withId };
  }
}
