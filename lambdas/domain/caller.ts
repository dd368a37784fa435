import type { Identity } from './identity.js';
import type { ConnectionKey } from './ports.js';

/** The connection a request arrived on and who opened it. */
export interface Caller {
  readonly connectionId: string;
  readonly identity: Identity;
  /**
   * When API Gateway received the request (ms since the epoch). The rate limit
   * counts requests on arrival: a cold start must not spread a burst out.
   */
  readonly receivedAt?: number;
}

/** The store key of the caller's connection. */
export function keyOf(caller: Caller): ConnectionKey {
  return { userId: caller.identity.userId, connectionId: caller.connectionId };
}
