/**
 * The `exp` claim of a JWT (seconds since the epoch), read WITHOUT verifying
 * the token: the client only uses it to know when to renew. `undefined` for a
 * token that is not a JWT or has no numeric `exp`. Uses `atob`, so it runs in
 * browsers and Node alike.
 *
 * @example
 * const exp = tokenExpiry(token);
 * if (exp !== undefined) console.log(new Date(exp * 1000));
 */
export function tokenExpiry(token: string): number | undefined {
  const exp = claimsOf(token)?.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
}

/**
 * The `sub` claim of a JWT, read WITHOUT verifying the token: the client's own
 * user id (PROTOCOL.md section 3), which presence frames never name.
 * `undefined` for a token that is not a JWT or has no string `sub`.
 */
export function tokenSubject(token: string): string | undefined {
  const sub = claimsOf(token)?.sub;
  return typeof sub === 'string' && sub !== '' ? sub : undefined;
}

function claimsOf(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined || payload === '') return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
    // The payload is UTF-8, and `sub` may hold any character.
    const bytes = Uint8Array.from(atob(padded), (char) => char.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return undefined;
    return claims as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
