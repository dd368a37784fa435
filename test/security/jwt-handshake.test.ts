import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { userPk } from '../../lambdas/adapters/table-keys.js';
import { useLocalStack } from '../integration/support/local-stack-fixture.js';
import { nowSeconds } from '../integration/support/tokens.js';
import { eventually, WAIT_MS } from '../integration/support/ws-client.js';
import { type ConfiguredAssembly, synthesizeConfigured } from '../support/configured-assembly.js';
import { handshake } from './support/handshake.js';
import {
  ecToken,
  hmacToken,
  type Json,
  part,
  rsaToken,
  signingInput,
  withSignature,
} from './support/jwt-forge.js';
import { scanTable } from './support/table-scan.js';

const ISSUER = 'https://issuer.example';
const AUDIENCE = 'realtime';
const ALLOWED_ORIGIN = 'https://app.example';
let assembly: ConfiguredAssembly | undefined;

/** The app as `cdk synth` makes it with issuer, audience and origins configured. */
function synthesizeWithClaims(): string {
  assembly = synthesizeConfigured(
    'jwt',
    { ALLOWED_ORIGINS: ALLOWED_ORIGIN, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE },
    inject('cdkOutdir'),
  );
  return assembly.outdir;
}

let counter = 0;
const fresh = (label: string) => `${label}-${++counter}-${randomUUID().slice(0, 8)}`;

/** What one row sends with its upgrade request. */
interface Attempt {
  /** The raw query string, without `?`. */
  readonly query?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly protocols?: readonly string[];
}

/** What a row may use to forge its request. */
interface Forge {
  readonly secret: string;
  /** The row's user id. */
  readonly sub: string;
  /** Claims that pass every rule, with `changes` applied (`undefined` removes a claim). */
  claims(changes?: Json): Json;
  /** A token that passes every rule, for the row's sub. */
  valid(changes?: Json): string;
  /** The attacker's own JWKS, serving its RSA public key. */
  readonly attackerJwksUrl: string;
}

const HS256 = { alg: 'HS256', typ: 'JWT' };
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsaJwk = { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'attacker', alg: 'RS256' };
const attackerSecret = 'attacker-chosen-secret';

const inQuery = (token: string): Attempt => ({ query: `token=${encodeURIComponent(token)}` });

/** A row of the matrix: a request that must be refused with `status`. */
interface Row {
  readonly name: string;
  readonly status: number;
  /** The user id to look for afterwards; the row's fresh sub unless the token names another. */
  readonly sub?: (forge: Forge) => string;
  readonly attempt: (forge: Forge) => Attempt;
}

const token = (name: string, make: (forge: Forge) => string): Row => ({
  name,
  status: 401,
  attempt: (forge) => inQuery(make(forge)),
});

const ROWS: readonly Row[] = [
  token('an alg "none" token', (f) => withSignature({ alg: 'none', typ: 'JWT' }, f.claims(), '')),
  token('an alg "None" token', (f) => withSignature({ alg: 'None', typ: 'JWT' }, f.claims(), '')),
  token('an alg "NONE" token', (f) => withSignature({ alg: 'NONE', typ: 'JWT' }, f.claims(), '')),
  token('an unsecured JWT made by jose', (f) =>
    new UnsecuredJWT(f.claims()).setExpirationTime(nowSeconds() + 3600).encode(),
  ),
  token('an alg "none" token carrying a valid HS256 signature', (f) => {
    const signature = hmacToken(HS256, f.claims(), f.secret).split('.')[2] ?? '';
    return withSignature({ alg: 'none' }, f.claims(), signature);
  }),
  token('an HS256 token signed with another secret', (f) =>
    hmacToken(HS256, f.claims(), attackerSecret),
  ),
  token('an HS256 token signed with an empty secret', (f) => hmacToken(HS256, f.claims(), '')),
  token('an HS384 token signed with the right secret', (f) =>
    hmacToken({ alg: 'HS384', typ: 'JWT' }, f.claims(), f.secret, 'sha384'),
  ),
  token('an HS512 token signed with the right secret', (f) =>
    hmacToken({ alg: 'HS512', typ: 'JWT' }, f.claims(), f.secret, 'sha512'),
  ),
  token('an RS256 token in HS256 mode', (f) =>
    rsaToken({ alg: 'RS256', typ: 'JWT', kid: 'attacker' }, f.claims(), rsa.privateKey),
  ),
  token('an ES256 token in HS256 mode', (f) =>
    ecToken({ alg: 'ES256', typ: 'JWT' }, f.claims(), ec.privateKey),
  ),
  token('an HS256 token with an empty signature', (f) => withSignature(HS256, f.claims(), '')),
  token('an HS256 token without its signature segment', (f) => signingInput(HS256, f.claims())),
  token('a valid token truncated by 8 characters', (f) => f.valid().slice(0, -8)),
  token('a valid token with an extra segment', (f) => `${f.valid()}.${part('extra')}`),
  token('a JWE-shaped token of 5 segments', (f) =>
    [
      part(JSON.stringify({ alg: 'dir', enc: 'A256GCM' })),
      '',
      part('twelve bytes'),
      part(JSON.stringify(f.claims())),
      part('sixteen byte tag'),
    ].join('.'),
  ),
  token('a token whose header is not JSON', (f) => {
    const payload = signingInput(HS256, f.claims()).split('.')[1] ?? '';
    return `${part('{"alg":"HS256"')}.${payload}.${part('sig')}`;
  }),
  token('a token that is no JWT at all', () => 'Bearer not-a-token'),
  token('a correctly signed token with an unknown "crit" extension', (f) =>
    hmacToken(
      { ...HS256, crit: ['urn:attacker:ext'], 'urn:attacker:ext': true },
      f.claims(),
      f.secret,
    ),
  ),
  token('a token whose "kid" points at /dev/null, signed with an empty key', (f) =>
    hmacToken({ ...HS256, kid: '../../../../../../dev/null' }, f.claims(), ''),
  ),
  token('a token whose "kid" carries an injection, signed with the attacker\'s secret', (f) =>
    hmacToken(
      { ...HS256, kid: "x' UNION SELECT 'attacker-chosen-secret" },
      f.claims(),
      attackerSecret,
    ),
  ),
  token('a token whose "jku" points at the attacker\'s JWKS', (f) =>
    rsaToken(
      { alg: 'RS256', typ: 'JWT', kid: 'attacker', jku: f.attackerJwksUrl },
      f.claims(),
      rsa.privateKey,
    ),
  ),
  token('an HS256 token whose "jku" points at the attacker\'s JWKS', (f) =>
    hmacToken({ ...HS256, kid: 'attacker', jku: f.attackerJwksUrl }, f.claims(), attackerSecret),
  ),
  token('a token whose "x5u" points at the attacker', (f) =>
    rsaToken(
      { alg: 'RS256', typ: 'JWT', x5u: `${f.attackerJwksUrl}?x5u` },
      f.claims(),
      rsa.privateKey,
    ),
  ),
  token('a token embedding the attacker\'s RSA key as "jwk"', (f) =>
    rsaToken({ alg: 'RS256', typ: 'JWT', jwk: rsaJwk }, f.claims(), rsa.privateKey),
  ),
  token('an HS256 token embedding the attacker\'s secret as a "jwk"', (f) =>
    hmacToken(
      {
        ...HS256,
        jwk: { kty: 'oct', k: Buffer.from(attackerSecret).toString('base64url') },
      },
      f.claims(),
      attackerSecret,
    ),
  ),
  token('a token expired 45 s ago (beyond the 30 s tolerance)', (f) =>
    f.valid({ exp: nowSeconds() - 45 }),
  ),
  token('a token valid only from 60 s on (beyond the 30 s tolerance)', (f) =>
    f.valid({ nbf: nowSeconds() + 60 }),
  ),
  token('a token without exp', (f) => f.valid({ exp: undefined })),
  token('a token whose exp is a string', (f) => f.valid({ exp: String(nowSeconds() + 3600) })),
  token('a token whose exp is null', (f) => f.valid({ exp: null })),
  {
    ...token('a token whose sub is a number', (f) => f.valid({ sub: 424242 })),
    sub: () => '424242',
  },
  { ...token('a token whose sub is empty', (f) => f.valid({ sub: '' })), sub: () => '' },
  token('a token without sub', (f) => f.valid({ sub: undefined })),
  {
    ...token('a token whose sub has 129 characters', (f) =>
      f.valid({ sub: f.sub.padEnd(129, 's') }),
    ),
    sub: (f) => f.sub.padEnd(129, 's'),
  },
  token('a token of another issuer', (f) => f.valid({ iss: 'https://attacker.example' })),
  token('a token without iss', (f) => f.valid({ iss: undefined })),
  token('a token for another audience', (f) => f.valid({ aud: 'another-api' })),
  token('a token without aud', (f) => f.valid({ aud: undefined })),
  token('a forged token of 8 KB', (f) =>
    hmacToken(HS256, f.claims({ pad: 'p'.repeat(6_000) }), attackerSecret),
  ),
  {
    name: 'no token, with a valid one in the Authorization header',
    status: 401,
    attempt: (f) => ({ headers: { Authorization: `Bearer ${f.valid()}` } }),
  },
  {
    name: 'no token, with a valid one in Sec-WebSocket-Protocol',
    status: 401,
    attempt: (f) => ({ protocols: ['bearer', f.valid()] }),
  },
  {
    name: 'no token, with a valid one in a cookie',
    status: 401,
    attempt: (f) => ({ headers: { Cookie: `token=${f.valid()}` } }),
  },
  {
    name: 'a valid token under another query parameter',
    status: 401,
    attempt: (f) => ({ query: `access_token=${f.valid()}` }),
  },
  {
    name: 'a token given twice in the query string, both forged',
    status: 401,
    attempt: (f) => ({
      query: `token=${hmacToken(HS256, f.claims(), attackerSecret)}&token=${f.valid().slice(0, -4)}`,
    }),
  },
  {
    name: 'a valid token from a disallowed Origin',
    status: 403,
    attempt: (f) => ({ ...inQuery(f.valid()), headers: { Origin: 'https://evil.example' } }),
  },
  {
    name: 'a valid token from Origin "null"',
    status: 403,
    attempt: (f) => ({ ...inQuery(f.valid()), headers: { Origin: 'null' } }),
  },
  {
    name: 'a valid token from an Origin extending the allowed one',
    status: 403,
    attempt: (f) => ({
      ...inQuery(f.valid()),
      headers: { Origin: `${ALLOWED_ORIGIN}.evil.example` },
    }),
  },
  {
    name: 'a valid token from the allowed host over http',
    status: 403,
    attempt: (f) => ({ ...inQuery(f.valid()), headers: { Origin: 'http://app.example' } }),
  },
];

describe('the handshake under a JWT attack matrix, on dynalite', () => {
  const local = useLocalStack('dynalite', {
    assembly: synthesizeWithClaims,
    afterStop: () => assembly?.remove(),
    env: { JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE },
  });

  let jwksServer: Server;
  let jwksUrl = '';
  const jwksRequests: string[] = [];

  beforeAll(async () => {
    jwksServer = createServer((request, response) => {
      jwksRequests.push(request.url ?? '');
      response
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ keys: [rsaJwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
  });

  function forgeFor(sub: string): Forge {
    const claims = (changes: Json = {}) => {
      const now = nowSeconds();
      const all: Json = { sub, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 3600, ...changes };
      return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
    };
    return {
      secret: local.stack.secret,
      sub,
      claims,
      valid: (changes) => hmacToken(HS256, claims(changes), local.stack.secret),
      attackerJwksUrl: jwksUrl,
    };
  }

  const upgrade = (attempt: Attempt) =>
    handshake(
      attempt.query === undefined ? local.stack.url : `${local.stack.url}?${attempt.query}`,
      {
        ...(attempt.headers === undefined ? {} : { headers: attempt.headers }),
        ...(attempt.protocols === undefined ? {} : { protocols: attempt.protocols }),
      },
    );

  /** Connections a direct to `userId` reaches, asked by a fresh client. */
  async function deliveredTo(userId: string): Promise<unknown> {
    const prober = await local.connect(fresh('prober'));
    const ack = await prober.request({ action: 'direct', to: userId, data: 'anyone?' });
    await prober.close();
    return ack.delivered;
  }

  /** Connection records of `userId` in the table. */
  async function recordsOf(userId: string) {
    const endpoint = local.stack.dynamoEndpoint;
    const table = local.stack.model.tables[0]?.logicalId ?? '';
    return (await scanTable(endpoint, table)).filter((item) => item.pk === userPk(userId));
  }

  it.each(ROWS)('refuses $name with $status and records no connection', async (row) => {
    const forge = forgeFor(fresh('victim'));
    const before = new Set(local.stack.gateway.connections.keys());
    const outcome = await upgrade(row.attempt(forge));
    outcome.socket?.close();
    expect(outcome.status).toBe(row.status);
    const added = [...local.stack.gateway.connections.keys()].filter((id) => !before.has(id));
    expect(added).toEqual([]);
    const sub = row.sub?.(forge) ?? forge.sub;
    expect(await recordsOf(sub)).toEqual([]);
    if (sub.length >= 1 && sub.length <= 128) expect(await deliveredTo(sub)).toBe(0);
  });

  it('never fetches a key from a URL a token names', () => {
    // Runs after the matrix (tests of a file run in order): the jku and x5u rows are done.
    expect(jwksRequests).toEqual([]);
  });

  it('refuses a 16 KB token before it reaches the authorizer, and records no connection', async () => {
    const forge = forgeFor(fresh('huge'));
    const huge = forge.valid({ pad: 'p'.repeat(12_000) });
    expect(huge.length).toBeGreaterThan(16_000);
    const logged = local.logs.length;
    const outcome = await upgrade(inQuery(huge));
    outcome.socket?.close();
    // An 8 KB forged token after it does reach the authorizer, which logs its refusal;
    // once that line is in, the huge token's would be too, had it been judged.
    const forged = hmacToken(HS256, forge.claims({ pad: 'p'.repeat(6_000) }), attackerSecret);
    const judged = local.logs.length;
    expect((await upgrade(inQuery(forged))).status).toBe(401);
    await eventually(
      () =>
        local.logs.slice(judged).some((line) => line.includes('authorizer: refused')) || undefined,
      WAIT_MS,
      "the authorizer's refusal of the 8 KB token",
    );
    expect(local.logs.slice(logged, judged).filter((line) => line.includes('authorizer'))).toEqual(
      [],
    );
    // Node's HTTP server refuses request heads over 16 KiB with 431; API Gateway
    // has its own (smaller) limit on the request line. Either way a 4xx, no upgrade.
    expect(outcome.status).toBe(431);
    expect(await recordsOf(forge.sub)).toEqual([]);
    expect(await deliveredTo(forge.sub)).toBe(0);
  });

  describe('controls', () => {
    async function acceptedAs(sub: string, attempt: Attempt) {
      const outcome = await upgrade(attempt);
      expect(outcome.status).toBe(101);
      expect(await recordsOf(sub)).toHaveLength(1);
      expect(await deliveredTo(sub)).toBe(1);
      outcome.socket?.close();
    }

    it('accepts a token that passes every rule, without Origin', async () => {
      const forge = forgeFor(fresh('valid'));
      await acceptedAs(forge.sub, inQuery(forge.valid()));
    });

    it('accepts a token that passes every rule from the allowed Origin', async () => {
      const forge = forgeFor(fresh('browser'));
      await acceptedAs(forge.sub, {
        ...inQuery(forge.valid()),
        headers: { Origin: ALLOWED_ORIGIN },
      });
    });

    it('accepts a token of /dev/token, which carries the configured iss and aud', async () => {
      const sub = fresh('dev');
      await acceptedAs(sub, inQuery(await local.token({ sub })));
    });
  });

  describe('a token given twice in the query string', () => {
    // API Gateway puts the last value of a repeated query parameter in
    // queryStringParameters (all of them in multiValueQueryStringParameters),
    // and the authorizer reads queryStringParameters.token.
    it('is judged by its last value, as API Gateway passes it to the authorizer', async () => {
      const forge = forgeFor(fresh('twice'));
      const forged = hmacToken(HS256, forge.claims(), attackerSecret);

      const validFirst = await upgrade({ query: `token=${forge.valid()}&token=${forged}` });
      validFirst.socket?.close();
      expect(validFirst.status).toBe(401);

      const validLast = await upgrade({ query: `token=${forged}&token=${forge.valid()}` });
      validLast.socket?.close();
      expect(validLast.status).toBe(101);
    });
  });
});
