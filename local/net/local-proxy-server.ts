import type { Agent, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An HTTP proxy of the local stack, listening on 127.0.0.1. */
export interface LocalProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Stops serving, drops its connections and upstream sockets; safe to call twice. */
  close(): Promise<void>;
}

/** Listens on a free port of 127.0.0.1; `agent` holds the proxy's upstream sockets. */
export async function listenLocally(server: Server, agent: Agent): Promise<LocalProxy> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      });
      return closing;
    },
  };
}
