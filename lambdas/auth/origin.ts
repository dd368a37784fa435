/** Request headers as API Gateway passes them: names in whatever case the client sent. */
export type RequestHeaders = Readonly<Record<string, string | undefined>>;

/**
 * Whether a handshake's `Origin` is acceptable (PROTOCOL.md section 1): any
 * when `allowed` is undefined; otherwise an `Origin` must equal a listed
 * origin exactly, and a request without one (not a browser) is accepted.
 */
export function originAllowed(
  allowed: readonly string[] | undefined,
  headers: RequestHeaders | null | undefined,
): boolean {
  if (allowed === undefined) return true;
  // Header names are case-insensitive and API Gateway keeps the client's case;
  // should a client send differing cases, every value must pass.
  const origins = Object.entries(headers ?? {}).flatMap(([name, value]) =>
    name.toLowerCase() === 'origin' && value !== undefined ? [value] : [],
  );
  // An Origin check defends browsers against cross-site WebSocket hijacking;
  // other clients can send any Origin they like, so its absence proves nothing.
  return origins.every((origin) => allowed.includes(origin));
}
