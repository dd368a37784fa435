import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

/** Where the demo page imports the client SDK from. */
export const CLIENT_BUNDLE_PATH = '/realtime-client.js';

/** Serves the client SDK as one browser module, bundled on first request. */
export interface ClientBundle {
  /** The bundled module's source. */
  source(): Promise<string>;
  /** Answers a request for {@link CLIENT_BUNDLE_PATH}. */
  serve(response: ServerResponse): Promise<void>;
}

/**
 * Serves the `serverless-websocket-client` package's bundle, the bytes `npm
 * pack` ships as its `dist/index.js`, built in memory so a fresh clone needs no
 * build step. The first request builds it and later ones reuse the result. A
 * failed build is not kept, so a fixed SDK is picked up by the next request.
 */
export function clientBundle(bundle: () => Promise<string> = packagedOrBuilt): ClientBundle {
  let built: Promise<string> | undefined;
  const source = () => {
    built ??= bundle().catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return built;
  };
  return {
    source,
    async serve(response) {
      let code: string;
      try {
        code = await source();
      } catch (error) {
        response
          .writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' })
          .end(`could not bundle the client SDK: ${String(error)}`);
        return;
      }
      response
        .writeHead(200, {
          'Content-Type': 'text/javascript; charset=utf-8',
          'Cache-Control': 'no-cache',
        })
        .end(code);
    },
  };
}

/** The bundle the installed package ships beside this module (scripts/build-package.mjs). */
const PACKAGED_BUNDLE = new URL('./realtime-client.js', import.meta.url);

/**
 * In the installed package, the bundle it ships, built by the client's own
 * build at `npm pack`; in this repository, that build run now from client/.
 */
async function packagedOrBuilt(): Promise<string> {
  if (existsSync(PACKAGED_BUNDLE)) return readFile(PACKAGED_BUNDLE, 'utf8');
  const { bundleClient } = await import('../../client/build.mjs');
  return bundleClient();
}
