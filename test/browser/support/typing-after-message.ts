import type { WebSocketRoute } from 'playwright-core';

/** A page's WebSocket route that reorders one user's frames, and what it did. */
export interface TypingAfterMessage {
  /** Route handler for `BrowserContext.routeWebSocket`. */
  readonly route: (socket: WebSocketRoute) => void;
  /** How many typing frames were held back; settles once they were passed on. */
  readonly released: Promise<number>;
}

interface FrameAuthors {
  readonly type?: unknown;
  readonly user?: { readonly userId?: unknown };
  readonly from?: { readonly userId?: unknown };
}

/**
 * Holds `typist`'s typing frames until their first message has reached the
 * page, then passes them on right after it: the order a typing frame sent
 * just before a message can take, `typing` and `send` being separate
 * invocations. Frames from then on pass as they come.
 */
export function typingAfterMessage(typist: string): TypingAfterMessage {
  let held: string[] | undefined = [];
  let release: (count: number) => void = () => {};
  const released = new Promise<number>((resolve) => {
    release = resolve;
  });
  const route = (socket: WebSocketRoute) => {
    const server = socket.connectToServer();
    server.onMessage((message) => {
      const text = message.toString();
      if (held === undefined) return socket.send(text);
      const frame = JSON.parse(text) as FrameAuthors;
      if (frame.type === 'typing' && frame.user?.userId === typist) {
        held.push(text);
        return;
      }
      socket.send(text);
      if (frame.type === 'message' && frame.from?.userId === typist) {
        for (const late of held) socket.send(late);
        release(held.length);
        held = undefined;
      }
    });
  };
  return { route, released };
}
