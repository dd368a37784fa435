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
  const payload = token.split('.')[1];
  if (payload === undefined || payload === '') return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
    // The payload is UTF-8; read as Latin-1 only string contents change, and
    // `exp` is a number, so JSON.parse reads it right either way.
    const claims: unknown = JSON.parse(atob(padded));
    if (typeof claims !== 'object' || claims === null) return undefined;
    const exp = (claims as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
  } catch {
    return undefined;
  }
}
