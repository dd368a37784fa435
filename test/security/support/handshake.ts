import WebSocket from 'ws';
import { WAIT_MS } from '../../integration/support/ws-client.js';

/** How an upgrade request was answered. */
export interface HandshakeOutcome {
  /** 101 when the upgrade was accepted, else the HTTP status of the refusal. */
  readonly status: number;
  /** The open socket when accepted; the caller closes it. */
  readonly socket?: WebSocket;
}

/** What to send with an upgrade request beyond the URL. */
export interface HandshakeOptions {
  readonly headers?: Readonly<Record<string, string>>;
  /** Offered in `Sec-WebSocket-Protocol`. */
  readonly protocols?: readonly string[];
}

/**
 * Sends an upgrade request to `url` exactly as given (query string included)
 * and resolves how it was answered. Unlike `TestClient.open` it takes any
 * headers, so it can carry a token where the API does not look for one.
 */
export function handshake(url: string, options: HandshakeOptions = {}): Promise<HandshakeOutcome> {
  const socket = new WebSocket(url, options.protocols ? [...options.protocols] : undefined, {
    headers: { ...options.headers },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no answer to the upgrade within ${WAIT_MS} ms`));
    }, WAIT_MS);
    socket.once('open', () => {
      clearTimeout(timer);
      resolve({ status: 101, socket });
    });
    socket.once('unexpected-response', (request, response) => {
      clearTimeout(timer);
      response.resume();
      request.destroy();
      resolve({ status: response.statusCode ?? 0 });
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
