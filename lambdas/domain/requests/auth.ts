import { TokenRejectedError } from '../../auth/token-verifier.js';
import { ProtocolError } from '../../shared/errors.js';
import { admit } from '../admission.js';
import type { TokenVerifier, VerifiedToken } from '../ports.js';
import { type RequestHandler, withId } from './request-handler.js';

/**
 * `auth`: renews the connection's token expiry with a new token for the same
 * `sub`. Only the expiry is renewed: the identity (name, rooms) stays the one
 * established at connect, which later routes receive from the authorizer.
 */
export function createAuth(verifier: TokenVerifier): RequestHandler<'auth'> {
  return async (services, caller, request) => {
    // A refused token is the caller's fault (`unauthorized`); anything else,
    // such as an unreachable JWKS, is ours and becomes `internal`.
    const token = await verifier.verify(request.token).catch((error: unknown) => {
      if (error instanceof TokenRejectedError) return undefined;
      throw error;
    });
    const sameUser = token !== undefined && token.sub === caller.identity.userId;
    // Verified first so that a valid renewal is stored by the admission write itself.
    await admit(services, caller, {
      allowExpiredToken: true,
      ...(sameUser ? { change: { renewExp: token.exp } } : {}),
    });
    return withId(request.id, { type: 'authed' as const, exp: renewedExp(token, sameUser) });
  };
}

function renewedExp(token: VerifiedToken | undefined, sameUser: boolean): number {
  if (token === undefined) {
    throw new ProtocolError('unauthorized', 'The token is not valid.');
  }
  if (!sameUser) {
    throw new ProtocolError('forbidden', 'The token is for another user.');
  }
  return token.exp;
}
