import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Where the demo page imports the client SDK from. */
export const CLIENT_BUNDLE_PATH = '/realtime-client.js';

const CLIENT_ENTRY = fileURLToPath(new URL('../../client/index.ts', import.meta.url));

/** Serves the client SDK as one browser module, bundled on first request. */
export interface ClientBundle {
  /** The bundled module's source. */
  source(): Promise<string>;
  /** Answers a request for {@link CLIENT_BUNDLE_PATH}. */
  serve(response: ServerResponse): Promise<void>;
}

/**
 * Bundles `client/index.ts` for browsers with esbuild, once: the first request
 * builds it and later ones reuse the result. A failed build is not kept, so a
 * fixed SDK is picked up by the next request.
 */
export function clientBundle(entry: string = CLIENT_ENTRY): ClientBundle {
  let built: Promise<string> | undefined;
  const source = () => {
    built ??= bundle(entry).catch((error: unknown) => {
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

async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'inline',
    write: false,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`esbuild produced no output for ${entry}`);
  return output.text;
}
