import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, TokenRejectedError } from '../../lambdas/auth/token-verifier.js';
import type { TokenVerifier, VerifiedToken } from '../../lambdas/domain/ports.js';
import {
  type AuthorizerEvent,
  AuthorizerFailureError,
  type AuthorizerLog,
  createAuthorizer,
} from '../../lambdas/handlers/authorizer.js';
import { type JwksServer, serveJwks, sign } from '../auth/tokens.js';

const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/$connect';
const TOKEN = 'header.payload.signature';
const ALLOWED = ['https://app.example.com'];
const ADA: VerifiedToken = { sub: 'user-1', name: 'Ada', rooms: ['doc:*'], exp: 1_900_000_000 };

function event(overrides: Partial<AuthorizerEvent> = {}): AuthorizerEvent {
  return {
    methodArn: METHOD_ARN,
    headers: { Origin: 'https://app.example.com' },
    queryStringParameters: { token: TOKEN },
    ...overrides,
  };
}

/** A verifier answering from a script, recording the tokens it was given. */
function fakeVerifier(answer: (token: string) => Promise<VerifiedToken>) {
  const tokens: string[] = [];
  const verifier: TokenVerifier = {
    verify: (token) => {
      tokens.push(token);
      return answer(token);
    },
  };
  return { verifier, tokens };
}

function recordingLog(): AuthorizerLog & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (line) => lines.push(line), error: (line) => lines.push(line) };
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  const error: unknown = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('$connect authorizer', () => {
  it('allows a valid token with the identity as context', async () => {
    const { verifier, tokens } = fakeVerifier(async () => ADA);
    const authorize = createAuthorizer({ verifier, allowedOrigins: ALLOWED, log: recordingLog() });

    await expect(authorize(event())).resolves.toEqual({
      principalId: 'user-1',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN }],
      },
      context: { sub: 'user-1', name: 'Ada', rooms: '["doc:*"]', exp: 1_900_000_000 },
    });
    expect(tokens).toEqual([TOKEN]);
  });

  it('passes an absent rooms claim on as an empty string', async () => {
    const { verifier } = fakeVerifier(async () => ({ ...ADA, rooms: null }));
    const authorize = createAuthorizer({
      verifier,
      allowedOrigins: undefined,
      log: recordingLog(),
    });

    const result = await authorize(event());

    expect(result.context).toEqual({ sub: 'user-1', name: 'Ada', rooms: '', exp: 1_900_000_000 });
  });

  it('denies an origin that is not allowed without verifying the token', async () => {
    const { verifier, tokens } = fakeVerifier(async () => ADA);
    const authorize = createAuthorizer({ verifier, allowedOrigins: ALLOWED, log: recordingLog() });

    const result = await authorize(event({ headers: { origin: 'https://evil.example.com' } }));

    expect(result).toEqual({
      principalId: 'anonymous',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: METHOD_ARN }],
      },
    });
    expect(tokens).toEqual([]);
  });

  it('accepts a request with no Origin header when origins are restricted', async () => {
    const { verifier } = fakeVerifier(async () => ADA);
    const authorize = createAuthorizer({ verifier, allowedOrigins: ALLOWED, log: recordingLog() });

    const result = await authorize(event({ headers: { Host: 'abcdef1234.execute-api' } }));

    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    expect(result.principalId).toBe('user-1');
  });

  it.each<[string, AuthorizerEvent['queryStringParameters']]>([
    ['no query string', null],
    ['no token parameter', { other: 'x' }],
    ['an empty token', { token: '' }],
  ])('answers Unauthorized for %s without calling the verifier', async (_case, query) => {
    const { verifier, tokens } = fakeVerifier(async () => ADA);
    const authorize = createAuthorizer({ verifier, allowedOrigins: ALLOWED, log: recordingLog() });

    const error = await rejectionOf(authorize(event({ queryStringParameters: query })));

    expect(error.message).toBe('Unauthorized');
    expect(tokens).toEqual([]);
  });

  it('answers Unauthorized for a refused token and never logs it', async () => {
    const { verifier } = fakeVerifier(async () => {
      throw new TokenRejectedError('token_expired', '"exp" claim timestamp check failed');
    });
    const log = recordingLog();
    const authorize = createAuthorizer({ verifier, allowedOrigins: ALLOWED, log });

    const error = await rejectionOf(authorize(event()));

    expect(error.message).toBe('Unauthorized');
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toContain('token_expired');
    expect(log.lines.join('\n')).not.toContain(TOKEN);
  });

  it('fails without allowing when verification itself fails, logging one line without the token', async () => {
    const outage = new Error(`JWKS fetch failed for ${TOKEN}\nsecond line`);
    const { verifier } = fakeVerifier(() => Promise.reject(outage));
    const log = recordingLog();
    const authorize = createAuthorizer({ verifier, allowedOrigins: ALLOWED, log });

    const error = await rejectionOf(authorize(event()));

    expect(error).toBeInstanceOf(AuthorizerFailureError);
    expect(error.message).not.toBe('Unauthorized');
    expect((error as AuthorizerFailureError).code).toBe('authorizer_failed');
    expect(error.cause).toBe(outage);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toContain('JWKS fetch failed');
    expect(log.lines[0]).not.toContain(TOKEN);
    expect(log.lines[0]).not.toContain('\n');
  });
});

describe('authorizer with real tokens', () => {
  const secret = new TextEncoder().encode('a-test-secret-that-is-thirty-two-bytes-or-more');

  it('answers Unauthorized for a token signed with another secret', async () => {
    const verifier = createTokenVerifier({ secret: 'the-real-secret-that-is-thirty-two-bytes' });
    const log = recordingLog();
    const authorize = createAuthorizer({ verifier, allowedOrigins: ALLOWED, log });
    const token = await sign({ sub: 'user-1', exp: Math.floor(Date.now() / 1000) + 60 }, secret, {
      alg: 'HS256',
    });

    const error = await rejectionOf(authorize(event({ queryStringParameters: { token } })));

    expect(error.message).toBe('Unauthorized');
    expect(log.lines[0]).toContain('token_invalid');
    expect(log.lines.join('\n')).not.toContain(token);
  });
});

describe('authorizer module in JWKS mode', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  let server: JwksServer;
  let token: string;

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    server = await serveJwks([{ ...(await exportJWK(publicKey)), kid: 'ec-1', alg: 'ES256' }]);
    token = await sign({ sub: 'user-1', exp: Math.floor(Date.now() / 1000) + 300 }, privateKey, {
      alg: 'ES256',
      kid: 'ec-1',
    });
  });

  afterAll(async () => {
    await server.close();
  });

  // Run in a fresh Node process: that is the only place where "nothing loaded
  // the SDK" means something, and where the module reads its real environment.
  it('allows a valid token without ever loading the Secrets Manager SDK', async () => {
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(process.cwd() + '/');
      const sdkModules = () => Object.keys(require.cache).filter((path) => path.includes('@aws-sdk/'));
      const { handler } = await import('./lambdas/handlers/authorizer.ts');
      const result = await handler({
        type: 'REQUEST',
        methodArn: ${JSON.stringify(METHOD_ARN)},
        headers: { Origin: 'https://app.example.com' },
        queryStringParameters: { token: process.env.TEST_TOKEN },
      });
      const afterHandler = sdkModules();
      await import('@aws-sdk/client-secrets-manager');
      console.log(JSON.stringify({
        effect: result.policyDocument.Statement[0].Effect,
        context: result.context,
        afterHandler,
        afterExplicitImport: sdkModules().length,
      }));
    `;
    const env: NodeJS.ProcessEnv = { ...process.env, TEST_TOKEN: token };
    for (const name of ['JWT_SECRET', 'JWT_SECRET_ARN', 'JWT_ISSUER', 'JWT_AUDIENCE']) {
      delete env[name];
    }
    env.JWT_JWKS_URL = server.url;
    env.ALLOWED_ORIGINS = 'https://app.example.com';

    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: root, env },
    );
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');

    expect(report.effect).toBe('Allow');
    expect(report.context).toMatchObject({ sub: 'user-1', name: 'user-1', rooms: '' });
    expect(report.afterHandler).toEqual([]);
    // The probe itself works: the same check sees the SDK once it is imported.
    expect(report.afterExplicitImport).toBeGreaterThan(0);
    expect(server.requests()).toBe(1);
  });
});
