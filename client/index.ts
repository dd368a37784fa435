/**
 * The browser client SDK of the realtime backend: one {@link RealtimeClient}
 * per page, on the platform's `WebSocket`, with no runtime dependencies.
 */
export type {
  DirectFrame,
  ErrorCode,
  HistoryFrame,
  JoinedFrame,
  MessageFrame,
  PresenceFrame,
  TypingFrame,
  User,
} from '../protocol/messages.js';
export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export { RealtimeError, type RealtimeErrorCode, type RealtimeErrorOptions } from './errors.js';
export { RealtimeClient } from './realtime-client.js';
export { tokenExpiry } from './token-expiry.js';
export type {
  ClientEvents,
  ConnectionState,
  PresenceChange,
  RealtimeClientOptions,
  ReconnectOptions,
  StateChange,
} from './types.js';
export type {
  CloseEventLike,
  MessageEventLike,
  WebSocketConstructorLike,
  WebSocketLike,
} from './websocket-like.js';
