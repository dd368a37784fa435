import type { Server } from 'node:http';
import dynalite from 'dynalite';
import type { DynamoEngine } from './engine.js';
import { DynamoStartError } from './start-error.js';

/** Settings of {@link startDynalite}. */
export interface StartDynaliteOptions {
  /** Absolute LevelDB directory; in memory when absent. */
  readonly dir?: string;
  /** Port on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
}

/** Starts dynalite inside this process, listening on 127.0.0.1 only. */
export async function startDynalite(options: StartDynaliteOptions): Promise<DynamoEngine> {
  // Zero delays: the local stack wants tables ACTIVE at once, not a CREATING phase to wait out.
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.dir === undefined ? {} : { path: options.dir }),
  });
  try {
    await listen(server, options.port);
  } catch (cause) {
    // dynalite's close() refuses a server that is not running and then skips closing
    // its store, which would keep the LevelDB lock on `dir` for the life of this
    // process; a throwaway loopback port makes close() release it.
    // Best effort: the listen failure is the error worth reporting.
    await listen(server, 0)
      .then(() => close(server))
      .catch(() => undefined);
    throw new DynamoStartError(
      'listen_failed',
      `dynalite could not listen on 127.0.0.1:${options.port}: ${String(cause)}`,
      { cause },
    );
  }
  const address = server.address();
  if (address === null || typeof address !== 'object') {
    throw new DynamoStartError(
      'listen_failed',
      `dynalite reports no TCP address: ${String(address)}`,
    );
  }
  let stopping: Promise<void> | undefined;
  return {
    name: 'dynalite',
    endpoint: `http://127.0.0.1:${address.port}`,
    stop() {
      stopping ??= close(server);
      return stopping;
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Keep-alive sockets of SDK clients would hold close() open until they time out.
    server.closeIdleConnections();
  });
}
