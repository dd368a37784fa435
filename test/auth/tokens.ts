import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type JWK, type JWTPayload, SignJWT } from 'jose';

/** The verification clock of the token tests. */
export const NOW = new Date('2030-01-01T00:00:00Z');
/** `NOW` in seconds, as JWT dates are. */
export const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);

type SigningKey = Parameters<SignJWT['sign']>[0];

/** Claims as a test wants them, malformed ones included. */
export type Claims = Readonly<Record<string, unknown>>;

/** Signs `claims` as given: no claim is added or checked, so tests can break any rule. */
export function sign(
  claims: Claims,
  key: SigningKey,
  header: { alg: string; kid?: string },
): Promise<string> {
  return new SignJWT(claims as JWTPayload).setProtectedHeader(header).sign(key);
}

/** An unsigned token (`alg: none`), built by hand since jose refuses to make one. */
export function unsignedToken(claims: Claims): string {
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`;
}

/** The token with its claims replaced but the original signature kept. */
export function withClaims(token: string, claims: Claims): string {
  const [header, , signature] = token.split('.');
  return `${header}.${base64url(claims)}.${signature}`;
}

/** The token with one character of its signature changed. */
export function withTamperedSignature(token: string): string {
  const [header, payload, signature = ''] = token.split('.');
  // A middle character: the last one may only carry padding bits.
  const index = Math.floor(signature.length / 2);
  const swapped = signature[index] === 'A' ? 'B' : 'A';
  return `${header}.${payload}.${signature.slice(0, index)}${swapped}${signature.slice(index + 1)}`;
}

/** A JWKS served over real HTTP on 127.0.0.1, counting requests. */
export interface JwksServer {
  readonly url: string;
  requests(): number;
  /** Makes the server answer 500 from now on. */
  fail(): void;
  close(): Promise<void>;
}

/** Serves `{ keys }` from a real HTTP server on port 0. */
export async function serveJwks(keys: readonly JWK[]): Promise<JwksServer> {
  let requests = 0;
  let failing = false;
  const server = createServer((_request, response) => {
    requests += 1;
    if (failing) {
      response.writeHead(500).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    requests: () => requests,
    fail: () => {
      failing = true;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
