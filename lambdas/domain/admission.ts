import { roomAllowed } from '../auth/room-access.js';
import { ProtocolError } from '../shared/errors.js';
import { type Caller, keyOf } from './caller.js';
import type { AdmissionChange, ConnectionState, Services } from './ports.js';

/** Clock tolerance for `exp`, here and at connect (PROTOCOL.md section 1: at most 30 s). */
export const CLOCK_TOLERANCE_S = 30;

export interface AdmitOptions {
  readonly change?: AdmissionChange;
  /** `auth` may renew an expired token, so it skips the expiry check. */
  readonly allowExpiredToken?: boolean;
}

/**
 * Counts the request against the caller's rate limit and applies `change`, in
 * one conditional write; refuses with `token_expired` or `rate_limited`.
 * While the connect token is valid the expiry check costs nothing: only once it
 * has passed does the write also require a stored `auth` renewal.
 */
export async function admit(
  services: Services,
  caller: Caller,
  options: AdmitOptions = {},
): Promise<ConnectionState> {
  const now = caller.receivedAt ?? services.clock();
  const minimumExp = Math.floor(now / 1000) - CLOCK_TOLERANCE_S;
  const expired = !options.allowExpiredToken && caller.identity.exp < minimumExp;
  const outcome = await services.connections.admit({
    key: keyOf(caller),
    now,
    ...(expired ? { renewedExpAtLeast: minimumExp } : {}),
    ...(options.change ? { change: options.change } : {}),
  });
  switch (outcome.kind) {
    case 'admitted':
      return outcome.connection;
    case 'token_expired':
      throw new ProtocolError('token_expired', 'The token has expired; renew it with auth.');
    case 'rate_limited':
      throw new ProtocolError('rate_limited', 'Too many requests; slow down.');
    case 'room_limit':
      // PROTOCOL.md has no code of its own for this limit: it is a join the
      // server does not allow, which is what `forbidden` means to clients.
      throw new ProtocolError(
        'forbidden',
        `A connection may be in at most ${services.limits.maxRoomsPerConnection} rooms; leave one first.`,
      );
    case 'gone':
      // The record was pruned or never written: nothing this connection can fix in place.
      throw new ProtocolError('internal', 'This connection is no longer registered; reconnect.');
  }
}

/** Refuses with `forbidden` when the token's `rooms` claim does not allow the room. */
export function requireRoomAllowed(caller: Caller, room: string): void {
  if (!roomAllowed(caller.identity.rooms, room)) {
    throw new ProtocolError('forbidden', `Your token does not allow room "${room}".`);
  }
}

/** Refuses with `not_member` when the connection has not joined the room. */
export function requireMember(state: ConnectionState, room: string): void {
  if (!state.rooms.has(room)) {
    throw new ProtocolError('not_member', `Join room "${room}" first.`);
  }
}
