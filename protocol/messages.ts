/**
 * Wire protocol version 1: the frames exchanged between clients and the backend.
 * See PROTOCOL.md. Shared by the Lambda handlers, the local stack and the client SDK,
 * so it uses neither Node nor DOM APIs.
 */

/** A user as other users see it. */
export interface User {
  readonly userId: string;
  readonly name: string;
}

/** Every action a client may send, in the order PROTOCOL.md section 4 lists them. */
export const ACTIONS = [
  'join',
  'leave',
  'send',
  'typing',
  'direct',
  'history',
  'auth',
  'ping',
] as const;

/** The name of a client request. */
export type Action = (typeof ACTIONS)[number];

/** Error codes of PROTOCOL.md section 6. */
export const ERROR_CODES = [
  'bad_request',
  'unknown_action',
  'forbidden',
  'not_member',
  'too_large',
  'rate_limited',
  'token_expired',
  'unauthorized',
  'internal',
] as const;

/** A protocol error code; programs branch on it, people read the message. */
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface JoinRequest {
  readonly action: 'join';
  readonly id?: string;
  readonly room: string;
}
export interface LeaveRequest {
  readonly action: 'leave';
  readonly id?: string;
  readonly room: string;
}
export interface SendRequest {
  readonly action: 'send';
  readonly id?: string;
  readonly room: string;
  readonly data: unknown;
}
export interface TypingRequest {
  readonly action: 'typing';
  readonly id?: string;
  readonly room: string;
}
export interface DirectRequest {
  readonly action: 'direct';
  readonly id?: string;
  readonly to: string;
  readonly data: unknown;
}
export interface HistoryRequest {
  readonly action: 'history';
  readonly id?: string;
  readonly room: string;
  readonly after: number;
  readonly limit: number;
}
export interface AuthRequest {
  readonly action: 'auth';
  readonly id?: string;
  readonly token: string;
}
export interface PingRequest {
  readonly action: 'ping';
  readonly id?: string;
}

/** A validated client request. */
export type ClientRequest =
  | JoinRequest
  | LeaveRequest
  | SendRequest
  | TypingRequest
  | DirectRequest
  | HistoryRequest
  | AuthRequest
  | PingRequest;

/** The request type for one action. */
export type RequestOf<A extends Action> = Extract<ClientRequest, { action: A }>;

export interface JoinedFrame {
  readonly type: 'joined';
  readonly id?: string;
  readonly room: string;
  readonly members: User[];
  readonly seq: number;
}
export interface LeftFrame {
  readonly type: 'left';
  readonly id?: string;
  readonly room: string;
}
export interface AckFrame {
  readonly type: 'ack';
  readonly id: string;
  readonly room?: string;
  readonly seq?: number;
  readonly delivered?: number;
}
export interface MessageFrame {
  readonly type: 'message';
  readonly room: string;
  readonly seq: number;
  readonly from: User;
  readonly data: unknown;
  readonly ts: number;
}
/**
 * A room's arrivals and departures of a short window, coalesced (PROTOCOL.md
 * section 4.1): both lists always present, at most one empty, a user in at
 * most one, never the recipient's own user.
 */
export interface PresenceFrame {
  readonly type: 'presence';
  readonly room: string;
  readonly joined: User[];
  readonly left: User[];
}
export interface TypingFrame {
  readonly type: 'typing';
  readonly room: string;
  readonly user: User;
}
export interface DirectFrame {
  readonly type: 'direct';
  readonly from: User;
  readonly data: unknown;
  readonly ts: number;
}
export interface HistoryFrame {
  readonly type: 'history';
  readonly id?: string;
  readonly room: string;
  readonly messages: MessageFrame[];
  readonly hasMore: boolean;
}
export interface AuthedFrame {
  readonly type: 'authed';
  readonly id?: string;
  readonly exp: number;
}
export interface PongFrame {
  readonly type: 'pong';
  readonly id?: string;
  readonly ts: number;
}
export interface ErrorFrame {
  readonly type: 'error';
  readonly id?: string;
  readonly code: ErrorCode;
  readonly message: string;
}

/** Every frame the server sends. */
export type ServerFrame =
  | JoinedFrame
  | LeftFrame
  | AckFrame
  | MessageFrame
  | PresenceFrame
  | TypingFrame
  | DirectFrame
  | HistoryFrame
  | AuthedFrame
  | PongFrame
  | ErrorFrame;

/** Fixed limits of the protocol (section 2 to 4). */
export const LIMITS = {
  /** API Gateway's frame limit for client frames. */
  maxFrameBytes: 32_768,
  /** API Gateway's limit for a message posted to a connection. */
  maxPostBytes: 131_072,
  maxIdLength: 64,
  maxUserIdLength: 128,
  maxHistoryLimit: 100,
  defaultHistoryLimit: 50,
} as const;

/** Room names: PROTOCOL.md section 3. */
export const ROOM_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/** True when `action` names a request of section 4 (exact, case-sensitive). */
export function isAction(action: unknown): action is Action {
  return typeof action === 'string' && (ACTIONS as readonly string[]).includes(action);
}
