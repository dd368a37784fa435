import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretSource } from '../../lambdas/auth/secret-source.js';
import {
  createTokenVerifier,
  type TokenRejectedCode,
  TokenRejectedError,
  VerifierConfigError,
} from '../../lambdas/auth/token-verifier.js';
import type { TokenVerifier } from '../../lambdas/domain/ports.js';
import {
  type Claims,
  type JwksServer,
  NOW,
  NOW_SECONDS,
  serveJwks,
  sign,
  unsignedToken,
  withClaims,
  withTamperedSignature,
} from './tokens.js';

const ISSUER = 'https://issuer.example.com';
const AUDIENCE = 'chat';
const SECRET = 'a-test-secret-that-is-thirty-two-bytes-or-more';
const SECRET_KEY = new TextEncoder().encode(SECRET);
const clock = () => NOW;

function claims(overrides: Claims = {}): Claims {
  return {
    sub: 'user-1',
    name: 'Ada',
    iss: ISSUER,
    aud: AUDIENCE,
    exp: NOW_SECONDS + 300,
    ...overrides,
  };
}

function claimsWithout(name: string): Claims {
  const { [name]: _left, ...rest } = claims();
  return rest;
}

async function refusalOf(promise: Promise<unknown>): Promise<TokenRejectedError> {
  const outcome = await promise.then(
    (value) => ({ rejected: false as const, value }),
    (error: unknown) => ({ rejected: true as const, error }),
  );
  if (!outcome.rejected)
    throw new Error(`expected a refusal, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(TokenRejectedError);
  return outcome.error as TokenRejectedError;
}

/** A verifier checking `iss` and `aud`, and how to sign tokens it should accept. */
interface Mode {
  readonly verifier: TokenVerifier;
  sign(claims: Claims): Promise<string>;
}

function followsTheTokenRules(mode: () => Mode): void {
  it('accepts a valid token and returns its identity claims', async () => {
    const token = await mode().sign(claims({ rooms: ['doc:*', 'lobby'] }));
    await expect(mode().verifier.verify(token)).resolves.toEqual({
      sub: 'user-1',
      name: 'Ada',
      rooms: ['doc:*', 'lobby'],
      exp: NOW_SECONDS + 300,
    });
  });

  it('accepts a token whose aud is an array containing the audience', async () => {
    const token = await mode().sign(claims({ aud: ['other', AUDIENCE] }));
    await expect(mode().verifier.verify(token)).resolves.toMatchObject({ sub: 'user-1' });
  });

  it('accepts a token that expired 20 s ago, within the clock tolerance', async () => {
    const token = await mode().sign(claims({ exp: NOW_SECONDS - 20 }));
    await expect(mode().verifier.verify(token)).resolves.toMatchObject({ exp: NOW_SECONDS - 20 });
  });

  it('accepts a token whose nbf is 20 s ahead, within the clock tolerance', async () => {
    const token = await mode().sign(claims({ nbf: NOW_SECONDS + 20 }));
    await expect(mode().verifier.verify(token)).resolves.toMatchObject({ sub: 'user-1' });
  });

  it('accepts a sub of exactly 128 characters', async () => {
    const sub = 'u'.repeat(128);
    const token = await mode().sign(claims({ sub }));
    await expect(mode().verifier.verify(token)).resolves.toMatchObject({ sub });
  });

  it.each<[string, () => Claims, TokenRejectedCode]>([
    ['that expired 40 s ago', () => claims({ exp: NOW_SECONDS - 40 }), 'token_expired'],
    [
      'that is not valid for another 60 s',
      () => claims({ nbf: NOW_SECONDS + 60 }),
      'token_not_yet_valid',
    ],
    ['from another issuer', () => claims({ iss: 'https://evil.example.com' }), 'claim_invalid'],
    ['with no issuer', () => claimsWithout('iss'), 'claim_invalid'],
    ['for another audience', () => claims({ aud: 'billing' }), 'claim_invalid'],
    ['with no audience', () => claimsWithout('aud'), 'claim_invalid'],
    ['with no sub', () => claimsWithout('sub'), 'claim_invalid'],
    ['with an empty sub', () => claims({ sub: '' }), 'claim_invalid'],
    ['with a sub over 128 characters', () => claims({ sub: 'u'.repeat(129) }), 'claim_invalid'],
    ['with a sub that is not a string', () => claims({ sub: 42 }), 'claim_invalid'],
    ['with no exp', () => claimsWithout('exp'), 'claim_invalid'],
    ['with an exp that is not a number', () => claims({ exp: 'soon' }), 'claim_invalid'],
  ])('refuses a token %s', async (_case, make, code) => {
    const token = await mode().sign(make());
    const refusal = await refusalOf(mode().verifier.verify(token));
    expect(refusal.code).toBe(code);
  });

  it('refuses a token signed with alg none', async () => {
    const refusal = await refusalOf(mode().verifier.verify(unsignedToken(claims())));
    expect(refusal.code).toBe('token_invalid');
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const token = await mode().sign(claims());
    const forged = withClaims(token, claims({ sub: 'admin' }));
    const refusal = await refusalOf(mode().verifier.verify(forged));
    expect(refusal.code).toBe('token_invalid');
  });

  it('refuses a token whose signature was changed', async () => {
    const token = await mode().sign(claims());
    const refusal = await refusalOf(mode().verifier.verify(withTamperedSignature(token)));
    expect(refusal.code).toBe('token_invalid');
  });

  it.each(['', 'not-a-jwt', 'a.b.c'])('refuses the malformed token %j', async (token) => {
    const refusal = await refusalOf(mode().verifier.verify(token));
    expect(refusal.code).toBe('token_invalid');
  });

  it('keeps the jose error as the cause of a refusal', async () => {
    const token = await mode().sign(claims({ exp: NOW_SECONDS - 3600 }));
    const refusal = await refusalOf(mode().verifier.verify(token));
    expect(refusal.name).toBe('TokenRejectedError');
    expect(refusal.cause).toMatchObject({ code: 'ERR_JWT_EXPIRED' });
  });
}

describe('HS256 mode', () => {
  const verifier = createTokenVerifier(
    { secret: SECRET, issuer: ISSUER, audience: AUDIENCE },
    { now: clock },
  );
  let rsa: { privateKey: CryptoKey };

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256');
  });

  followsTheTokenRules(() => ({
    verifier,
    sign: (payload) => sign(payload, SECRET_KEY, { alg: 'HS256' }),
  }));

  it('refuses an RS256 token', async () => {
    const token = await sign(claims(), rsa.privateKey, { alg: 'RS256' });
    const refusal = await refusalOf(verifier.verify(token));
    expect(refusal.code).toBe('token_invalid');
    expect(refusal.cause).toMatchObject({ code: 'ERR_JOSE_ALG_NOT_ALLOWED' });
  });

  it('refuses an HS384 token signed with the same secret', async () => {
    const token = await sign(claims(), SECRET_KEY, { alg: 'HS384' });
    const refusal = await refusalOf(verifier.verify(token));
    expect(refusal.code).toBe('token_invalid');
  });

  it('refuses a token signed with another secret', async () => {
    const other = new TextEncoder().encode('another-secret-that-is-thirty-two-bytes-long');
    const token = await sign(claims(), other, { alg: 'HS256' });
    const refusal = await refusalOf(verifier.verify(token));
    expect(refusal.code).toBe('token_invalid');
  });

  it('checks neither iss nor aud when they are not configured', async () => {
    const lenient = createTokenVerifier({ secret: SECRET }, { now: clock });
    const token = await sign(claims({ iss: 'anyone', aud: 'anything' }), SECRET_KEY, {
      alg: 'HS256',
    });
    await expect(lenient.verify(token)).resolves.toMatchObject({ sub: 'user-1' });
  });

  it('uses the system clock when none is injected', async () => {
    const live = createTokenVerifier({ secret: SECRET });
    const seconds = Math.floor(Date.now() / 1000);
    const fresh = await sign({ sub: 'user-1', exp: seconds + 60 }, SECRET_KEY, { alg: 'HS256' });
    const stale = await sign({ sub: 'user-1', exp: seconds - 60 }, SECRET_KEY, { alg: 'HS256' });
    await expect(live.verify(fresh)).resolves.toMatchObject({ exp: seconds + 60 });
    expect((await refusalOf(live.verify(stale))).code).toBe('token_expired');
  });
});

describe('JWKS mode', () => {
  let server: JwksServer;
  let verifier: TokenVerifier;
  let es: { publicKey: CryptoKey; privateKey: CryptoKey };
  let rs: { publicKey: CryptoKey; privateKey: CryptoKey };
  let stranger: { privateKey: CryptoKey };

  beforeAll(async () => {
    es = await generateKeyPair('ES256');
    rs = await generateKeyPair('RS256');
    stranger = await generateKeyPair('ES256');
    const published: JWK[] = [
      { ...(await exportJWK(es.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
      { ...(await exportJWK(rs.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    ];
    server = await serveJwks(published);
    verifier = createTokenVerifier(
      { jwksUrl: server.url, issuer: ISSUER, audience: AUDIENCE },
      { now: clock },
    );
  });

  afterAll(async () => {
    await server.close();
  });

  describe('with ES256 tokens', () => {
    followsTheTokenRules(() => ({
      verifier,
      sign: (payload) => sign(payload, es.privateKey, { alg: 'ES256', kid: 'ec-1' }),
    }));
  });

  describe('with RS256 tokens', () => {
    followsTheTokenRules(() => ({
      verifier,
      sign: (payload) => sign(payload, rs.privateKey, { alg: 'RS256', kid: 'rsa-1' }),
    }));
  });

  it('refuses an HS256 token signed with the public key as the secret (algorithm confusion)', async () => {
    const pem = new TextEncoder().encode(await exportSPKI(rs.publicKey));
    const jwk = new TextEncoder().encode(JSON.stringify(await exportJWK(rs.publicKey)));
    for (const secret of [pem, jwk]) {
      const token = await sign(claims(), secret, { alg: 'HS256', kid: 'rsa-1' });
      const refusal = await refusalOf(verifier.verify(token));
      expect(refusal.code).toBe('token_invalid');
      expect(refusal.cause).toMatchObject({ code: 'ERR_JOSE_ALG_NOT_ALLOWED' });
    }
  });

  it('refuses a token signed by a key not in the JWKS under a published kid', async () => {
    const token = await sign(claims(), stranger.privateKey, { alg: 'ES256', kid: 'ec-1' });
    const refusal = await refusalOf(verifier.verify(token));
    expect(refusal.code).toBe('token_invalid');
    expect(refusal.cause).toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
  });

  it('refuses a token signed by a key not in the JWKS under an unknown kid', async () => {
    const token = await sign(claims(), stranger.privateKey, { alg: 'ES256', kid: 'ec-9' });
    const refusal = await refusalOf(verifier.verify(token));
    expect(refusal.code).toBe('token_invalid');
    expect(refusal.cause).toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
  });

  it('fetches the JWKS once for many verifications', async () => {
    const fresh = await serveJwks([
      { ...(await exportJWK(es.publicKey)), kid: 'ec-1', alg: 'ES256' },
    ]);
    try {
      const cached = createTokenVerifier({ jwksUrl: fresh.url }, { now: clock });
      const token = await sign(claims(), es.privateKey, { alg: 'ES256', kid: 'ec-1' });
      await cached.verify(token);
      await cached.verify(token);
      await cached.verify(token);
      expect(fresh.requests()).toBe(1);
    } finally {
      await fresh.close();
    }
  });

  it('does not report an unreachable JWKS as a refused token', async () => {
    const broken = await serveJwks([]);
    broken.fail();
    try {
      const unreachable = createTokenVerifier({ jwksUrl: broken.url }, { now: clock });
      const token = await sign(claims(), es.privateKey, { alg: 'ES256', kid: 'ec-1' });
      const error: unknown = await unreachable.verify(token).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(TokenRejectedError);
      expect(broken.requests()).toBe(1);
    } finally {
      await broken.close();
    }
  });
});

describe('secret from Secrets Manager', () => {
  function countingSource(read: () => Promise<string>): SecretSource & { reads: number } {
    const source = {
      reads: 0,
      get: () => {
        source.reads += 1;
        return read();
      },
    };
    return source;
  }

  it('verifies HS256 tokens with the secret the source returns', async () => {
    const source = countingSource(async () => SECRET);
    const verifier = createTokenVerifier(
      { secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt' },
      { secretSource: source, now: clock },
    );
    const token = await sign(claims(), SECRET_KEY, { alg: 'HS256' });
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'user-1' });
    expect(source.reads).toBe(1);
  });

  it('refuses a token with alg none without reading the secret', async () => {
    const source = countingSource(async () => SECRET);
    const verifier = createTokenVerifier(
      { secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt' },
      { secretSource: source, now: clock },
    );
    const refusal = await refusalOf(verifier.verify(unsignedToken(claims())));
    expect(refusal.code).toBe('token_invalid');
    expect(source.reads).toBe(0);
  });

  it('passes a failing secret source through instead of refusing the token', async () => {
    const outage = new Error('Secrets Manager is down');
    const verifier = createTokenVerifier(
      { secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt' },
      { secretSource: countingSource(() => Promise.reject(outage)), now: clock },
    );
    const token = await sign(claims(), SECRET_KEY, { alg: 'HS256' });
    await expect(verifier.verify(token)).rejects.toBe(outage);
  });
});

describe('rooms claim', () => {
  const verifier = createTokenVerifier({ secret: SECRET }, { now: clock });

  it.each<[string, unknown, readonly string[] | null]>([
    ['absent allows every room (null)', undefined, null],
    ['an empty array allows no room', [], []],
    ['an array of patterns is kept as is', ['doc:*', 'lobby'], ['doc:*', 'lobby']],
    [
      'entries that are not strings are ignored',
      [1, 'lobby', null, { room: 'x' }, ['doc:*']],
      ['lobby'],
    ],
    ['a string instead of an array allows no room', 'doc:*', []],
    ['null allows no room', null, []],
    ['an object allows no room', { rooms: ['lobby'] }, []],
  ])('%s', async (_case, rooms, expected) => {
    const payload = rooms === undefined ? claims() : claims({ rooms });
    const token = await sign(payload, SECRET_KEY, { alg: 'HS256' });
    const verified = await verifier.verify(token);
    expect(verified.rooms).toEqual(expected);
  });

  it('falls back to sub when name is absent or not a string', async () => {
    for (const name of [undefined, 7, '']) {
      const payload = name === undefined ? claimsWithout('name') : claims({ name });
      const token = await sign(payload, SECRET_KEY, { alg: 'HS256' });
      await expect(verifier.verify(token)).resolves.toMatchObject({ name: 'user-1' });
    }
  });
});

describe('createTokenVerifier', () => {
  function configErrorOf(make: () => unknown): VerifierConfigError {
    try {
      make();
    } catch (error) {
      expect(error).toBeInstanceOf(VerifierConfigError);
      return error as VerifierConfigError;
    }
    throw new Error('expected a VerifierConfigError');
  }

  it('refuses a configuration with no way to verify tokens', () => {
    const error = configErrorOf(() => createTokenVerifier({ issuer: ISSUER }));
    expect(error.code).toBe('verifier_misconfigured');
    expect(error.message).toMatch(/JWT_JWKS_URL/);
  });

  it('refuses a configuration with both a secret and a secret ARN', () => {
    const error = configErrorOf(() =>
      createTokenVerifier({ secret: SECRET, secretArn: 'arn:aws:secretsmanager:x' }),
    );
    expect(error.code).toBe('verifier_misconfigured');
  });

  it('refuses a JWKS URL that is not a URL', () => {
    const error = configErrorOf(() => createTokenVerifier({ jwksUrl: 'not a url' }));
    expect(error.code).toBe('verifier_misconfigured');
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  it('prefers the JWKS over a secret when both are set', async () => {
    const verifier = createTokenVerifier(
      { jwksUrl: 'http://127.0.0.1:9/jwks.json', secret: SECRET },
      { now: clock },
    );
    const refusal = await refusalOf(
      verifier.verify(await sign(claims(), SECRET_KEY, { alg: 'HS256' })),
    );
    expect(refusal.cause).toMatchObject({ code: 'ERR_JOSE_ALG_NOT_ALLOWED' });
  });
});
