import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { type DevTokenSettings, handleDevToken } from '../../local/dev/dev-token.js';
import { httpRequest } from './support/http.js';

const SECRET = 'dev-token-test-secret';
const KEY = new TextEncoder().encode(SECRET);

let server: Server | undefined;

afterEach(async () => {
  const running = server;
  server = undefined;
  if (running === undefined) return;
  await new Promise<void>((resolve) => {
    running.closeAllConnections();
    running.close(() => resolve());
  });
});

/** Serves `/dev/token` with `settings` on 127.0.0.1, port 0; returns its base URL. */
async function serve(settings: DevTokenSettings = { secret: SECRET }): Promise<string> {
  const started = createServer((request, response) => {
    void handleDevToken(settings, request, response);
  });
  server = started;
  await new Promise<void>((resolve) => started.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(started.address() as AddressInfo).port}/dev/token`;
}

/** The token `/dev/token?<query>` answers, failing on any other status. */
async function tokenFor(url: string, query = ''): Promise<string> {
  const answer = await httpRequest('GET', `${url}?${query}`);
  if (answer.status !== 200) throw new Error(`status ${answer.status}: ${answer.body}`);
  return (JSON.parse(answer.body) as { token: string }).token;
}

describe('/dev/token', () => {
  it('answers a JSON body with the token', async () => {
    const url = await serve();

    const answer = await httpRequest('GET', `${url}?sub=alice`);

    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(answer.body)).toEqual({ token: expect.any(String) });
  });

  it('answers the bare token as text/plain with format=raw', async () => {
    const url = await serve();

    const answer = await httpRequest('GET', `${url}?sub=alice&name=Alice&format=raw`);

    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/plain/);
    expect(answer.body).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const { payload } = await jwtVerify(answer.body.trim(), KEY, { algorithms: ['HS256'] });
    expect(payload).toMatchObject({ sub: 'alice', name: 'Alice' });
  });

  it('answers JSON with format=json, as without format', async () => {
    const url = await serve();

    const answer = await httpRequest('GET', `${url}?sub=alice&format=json`);

    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(decodeJwt((JSON.parse(answer.body) as { token: string }).token).sub).toBe('alice');
  });

  it('refuses an unknown format with 400', async () => {
    const url = await serve();

    const answer = await httpRequest('GET', `${url}?sub=alice&format=yaml`);

    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ message: expect.stringMatching(/format/) });
  });

  it('refuses a bad ttl in plain text with format=raw, so no JSON lands in $TOKEN', async () => {
    const url = await serve();

    const answer = await httpRequest('GET', `${url}?sub=alice&ttl=0&format=raw`);

    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toMatch(/^text\/plain/);
    expect(answer.body).toMatch(/^ttl must be an integer from 1 to 86400\n$/);
  });

  it('signs the token with HS256 and the configured secret', async () => {
    const url = await serve();

    const token = await tokenFor(url, 'sub=alice');

    expect(decodeProtectedHeader(token).alg).toBe('HS256');
    await expect(jwtVerify(token, KEY, { algorithms: ['HS256'] })).resolves.toBeDefined();
    await expect(jwtVerify(token, new TextEncoder().encode('another secret'))).rejects.toThrow();
  });

  it('carries sub and name from the query string', async () => {
    const url = await serve();

    const token = await tokenFor(url, 'sub=alice&name=Alice%20A.');

    expect(decodeJwt(token)).toMatchObject({ sub: 'alice', name: 'Alice A.' });
  });

  it('carries the configured iss and aud', async () => {
    const url = await serve({
      secret: SECRET,
      issuer: 'https://issuer.test',
      audience: 'realtime',
    });

    const token = await tokenFor(url, 'sub=alice');

    const { payload } = await jwtVerify(token, KEY, {
      issuer: 'https://issuer.test',
      audience: 'realtime',
    });
    expect(payload).toMatchObject({ iss: 'https://issuer.test', aud: 'realtime' });
  });

  it('carries no iss or aud when none is configured', async () => {
    const url = await serve();

    const payload = decodeJwt(await tokenFor(url, 'sub=alice'));

    expect(payload).not.toHaveProperty('iss');
    expect(payload).not.toHaveProperty('aud');
  });

  it('turns comma-separated rooms into an array', async () => {
    const url = await serve();

    const token = await tokenFor(
      url,
      `sub=alice&rooms=${encodeURIComponent('lobby,doc:*,team-1')}`,
    );

    expect(decodeJwt(token).rooms).toEqual(['lobby', 'doc:*', 'team-1']);
  });

  it('leaves the rooms claim out when rooms is absent', async () => {
    const url = await serve();

    const payload = decodeJwt(await tokenFor(url, 'sub=alice'));

    expect(payload).not.toHaveProperty('rooms');
  });

  it('expires the token 3600 seconds after now by default', async () => {
    const url = await serve();
    const now = Math.floor(Date.now() / 1000);

    const { exp, iat } = decodeJwt(await tokenFor(url, 'sub=alice'));

    expect(exp).toBeGreaterThanOrEqual(now + 3600);
    expect(exp).toBeLessThanOrEqual(now + 3600 + 2);
    expect((exp ?? 0) - (iat ?? 0)).toBe(3600);
  });

  it('expires the token ttl seconds after now', async () => {
    const url = await serve();
    const now = Math.floor(Date.now() / 1000);

    const { exp } = decodeJwt(await tokenFor(url, 'sub=alice&ttl=120'));

    expect(exp).toBeGreaterThanOrEqual(now + 120);
    expect(exp).toBeLessThanOrEqual(now + 120 + 2);
  });

  it('accepts the maximum ttl of 86400 seconds', async () => {
    const url = await serve();
    const now = Math.floor(Date.now() / 1000);

    const { exp } = decodeJwt(await tokenFor(url, 'sub=alice&ttl=86400'));

    expect(exp).toBeGreaterThanOrEqual(now + 86_400);
    expect(exp).toBeLessThanOrEqual(now + 86_400 + 2);
  });

  it('refuses a ttl over 86400 seconds with 400', async () => {
    const url = await serve();

    const answer = await httpRequest('GET', `${url}?sub=alice&ttl=86401`);

    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ message: expect.any(String) });
  });
});
