import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignJWT } from 'jose';

/** The documented local development secret; never used by a deployed stack. */
export const LOCAL_DEVELOPMENT_SECRET = 'local-development-secret-do-not-deploy';

/** Signing settings of the local token endpoint. */
export interface DevTokenSettings {
  readonly secret: string;
  readonly issuer?: string;
  readonly audience?: string;
}

const DEFAULT_TTL_S = 3600;
const MAX_TTL_S = 86_400;

/**
 * `GET /dev/token?sub=&name=&rooms=&ttl=&format=` (local stack only,
 * PROTOCOL.md section 8): a token signed with the local secret, carrying the
 * configured `iss` and `aud`. `rooms` is comma-separated; `ttl` in seconds;
 * `format=raw` answers the bare token as text/plain (for `TOKEN=$(curl ...)`)
 * instead of `{ "token" }`.
 */
export async function handleDevToken(
  settings: DevTokenSettings,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const query = new URL(request.url ?? '/', 'http://localhost').searchParams;
  const format = query.get('format') ?? 'json';
  if (format !== 'json' && format !== 'raw') {
    return json(response, 400, { message: 'format must be json or raw' });
  }
  const refuse = (message: string) =>
    format === 'raw' ? text(response, 400, message) : json(response, 400, { message });
  const ttl = query.has('ttl') ? Number(query.get('ttl')) : DEFAULT_TTL_S;
  const sub = query.get('sub') || `guest-${randomBytes(3).toString('hex')}`;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_S) {
    return refuse(`ttl must be an integer from 1 to ${MAX_TTL_S}`);
  }
  if (sub.length > 128) return refuse('sub must be 1 to 128 characters');
  const claims: Record<string, unknown> = {};
  const name = query.get('name');
  if (name) claims.name = name;
  if (query.has('rooms')) {
    claims.rooms = (query.get('rooms') ?? '')
      .split(',')
      .map((room) => room.trim())
      .filter(Boolean);
  }
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttl);
  if (settings.issuer) jwt = jwt.setIssuer(settings.issuer);
  if (settings.audience) jwt = jwt.setAudience(settings.audience);
  const token = await jwt.sign(new TextEncoder().encode(settings.secret));
  return format === 'raw' ? text(response, 200, token) : json(response, 200, { token });
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response
    .writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
    .end(JSON.stringify(body));
}

/** `line` alone, newline-terminated: a shell's `$(...)` takes the token with no `jq`. */
function text(response: ServerResponse, status: number, line: string): void {
  response
    .writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' })
    .end(`${line}\n`);
}
