/** What the client reads from a `message` event: server frames are text. */
export interface MessageEventLike {
  readonly data: unknown;
}

/** What the client reads from a `close` event. */
export interface CloseEventLike {
  readonly code: number;
  readonly reason: string;
}

/**
 * The part of the platform's `WebSocket` the client uses, so that the
 * browser's, Node 22+'s global one and a test's fake all fit, and the SDK
 * type-checks without the DOM library.
 */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'error', listener: (event: unknown) => void): void;
  addEventListener(type: 'message', listener: (event: MessageEventLike) => void): void;
  addEventListener(type: 'close', listener: (event: CloseEventLike) => void): void;
}

/** A `WebSocket` constructor: `globalThis.WebSocket` or a test's fake. */
export type WebSocketConstructorLike = new (url: string) => WebSocketLike;
