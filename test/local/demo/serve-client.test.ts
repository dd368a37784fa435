import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { bundleClient } from '../../../client/build.mjs';
import { type ClientBundle, clientBundle } from '../../../local/demo/serve-client.js';
import { httpRequest } from '../support/http.js';

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

/** Serves `sdk` for every request on 127.0.0.1, port 0; returns its URL. */
async function serve(sdk: ClientBundle): Promise<string> {
  const started = createServer((_request, response) => {
    void sdk.serve(response);
  });
  server = started;
  await new Promise<void>((resolve) => started.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(started.address() as AddressInfo).port}/realtime-client.js`;
}

/** A build that fails until `fixed` is set, counting its runs. */
function flakyBuild() {
  const build = {
    runs: 0,
    fixed: false,
    run: async () => {
      build.runs++;
      if (!build.fixed) throw new Error('index.ts: Expected ";" but found "}"');
      return 'export class RealtimeClient {}\n';
    },
  };
  return build;
}

describe('the client SDK served to the demo page', () => {
  it("is the client package's own build", async () => {
    const url = await serve(clientBundle());
    const answer = await httpRequest('GET', url, undefined, 15_000);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(answer.body).toBe(await bundleClient());
  });

  it('is built once for every request, however many come at once', async () => {
    const build = flakyBuild();
    build.fixed = true;
    const url = await serve(clientBundle(build.run));
    const answers = await Promise.all([1, 2, 3].map(() => httpRequest('GET', url)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(new Set(answers.map((answer) => answer.body))).toEqual(
      new Set(['export class RealtimeClient {}\n']),
    );
    expect(build.runs).toBe(1);
  });

  it('answers 500 with the build error, then serves the fixed SDK on the next request', async () => {
    const build = flakyBuild();
    const url = await serve(clientBundle(build.run));
    const failed = await httpRequest('GET', url);
    expect(failed.status).toBe(500);
    expect(failed.body).toContain('Expected ";" but found "}"');

    build.fixed = true;
    const fixed = await httpRequest('GET', url);
    expect(fixed.status).toBe(200);
    expect(fixed.body).toBe('export class RealtimeClient {}\n');
    expect(build.runs).toBe(2);
  });
});
