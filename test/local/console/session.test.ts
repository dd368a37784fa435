import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLocalConsole } from '../../../local/console/local-console.js';
import { type LocalStack, startLocalStack } from '../../../local/local-stack.js';
import { until } from '../support/wait.js';
import { handshake, type TestClient } from '../support/ws-client.js';

/**
 * A session on a real local stack, printed by the default console: connect,
 * join, send, a join the token does not allow, two refused handshakes, close.
 */
const lines: string[] = [];
let stack: LocalStack;
let alice: TestClient | undefined;

const TIME = String.raw`\d\d:\d\d:\d\d\.\d{3}`;
/** A request line: time, route, user, duration, then the outcome. */
const request = (route: string, user: string, outcome: string) =>
  new RegExp(String.raw`^${TIME}  ${route.replace('$', '\\$')} +${user} +\d+ ms  ${outcome}$`);

async function devToken(query: string): Promise<string> {
  const response = await fetch(`${stack.httpUrl}/dev/token?${query}`);
  return ((await response.json()) as { token: string }).token;
}

async function refusalOf(query: string): Promise<number> {
  const outcome = await handshake(`${stack.url}${query}`);
  if (outcome.kind === 'open') throw new Error('the handshake was accepted');
  return outcome.status;
}

beforeAll(async () => {
  const out = createLocalConsole({ write: (line) => lines.push(line) });
  stack = await startLocalStack({
    assembly: inject('cdkOutdir'),
    engine: 'dynalite',
    env: {},
    log: (line) => out.log(line),
    requests: (report) => out.request(report),
  });

  const token = await devToken('sub=alice&name=Alice&rooms=lobby');
  const opened = await handshake(`${stack.url}?token=${encodeURIComponent(token)}`);
  if (opened.kind !== 'open') throw new Error(`alice was refused: ${opened.status}`);
  alice = opened.client;
  alice.socket.send(JSON.stringify({ action: 'join', id: 'j1', room: 'lobby' }));
  await alice.nextJson(10_000);
  alice.socket.send(JSON.stringify({ action: 'send', id: 's1', room: 'lobby', data: 'hi' }));
  await alice.nextJson(10_000);
  await alice.nextJson(10_000);
  alice.socket.send(JSON.stringify({ action: 'join', id: 'j2', room: 'secret' }));
  await alice.nextJson(10_000);
  expect(await refusalOf('?token=not.a.token')).toBe(401);
  expect(await refusalOf('')).toBe(401);
  alice.socket.close(1000);
  await alice.closeStatus();
  await until(
    () =>
      lines.some((line) => request('$disconnect', 'alice', 'ok').test(line)) &&
      lines.filter((line) => line.includes('refused')).length >= 2,
    'the session to be printed',
    10_000,
  );
});

afterAll(async () => {
  await alice?.dispose();
  await stack?.stop();
});

describe('the default console, over a session on a local stack', () => {
  it('prints one line per request with its route, user and outcome', () => {
    const requests = lines.filter((line) => new RegExp(`^${TIME}  [$a-z]`).test(line));

    expect(requests, lines.join('\n')).toEqual([
      expect.stringMatching(request('$connect', 'alice', 'ok')),
      expect.stringMatching(request('join', 'alice', 'ok')),
      expect.stringMatching(request('send', 'alice', 'ok')),
      expect.stringMatching(request('join', 'alice', 'forbidden')),
      expect.stringMatching(request('$connect', '', '401 refused: token_invalid: .+')),
      expect.stringMatching(request('$connect', '', '401 refused: no token')),
      expect.stringMatching(request('$disconnect', 'alice', 'ok')),
    ]);
  });

  it('prints no metrics JSON and no JSON log entry', () => {
    expect(
      lines.filter((line) => line.includes('"_aws"') || line.includes('{"')),
      lines.join('\n'),
    ).toEqual([]);
  });

  it('prints a refused handshake as one line, without a stack trace', () => {
    const about = lines.filter((line) =>
      /Unauthorized|token_invalid|\bat .+:\d+:\d+\)?$/.test(line),
    );

    expect(about, lines.join('\n')).toEqual([
      expect.stringMatching(/401 refused: token_invalid: /),
    ]);
  });
});
