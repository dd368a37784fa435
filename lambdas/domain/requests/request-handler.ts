import type { Action, RequestOf, ServerFrame } from '../../../protocol/messages.js';
import type { Caller } from '../caller.js';
import type { Services } from '../ports.js';

/**
 * Carries out one validated request; resolves the reply to send back (if any)
 * or rejects with a `ProtocolError`.
 */
export type RequestHandler<A extends Action> = (
  services: Services,
  caller: Caller,
  request: RequestOf<A>,
) => Promise<ServerFrame | undefined>;

/** Adds the request's `id` to a reply when it had one. */
export function withId<T extends object>(id: string | undefined, frame: T): T & { id?: string } {
  return id === undefined ? frame : { ...frame, id };
}
