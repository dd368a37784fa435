import { createServer } from 'node:net';

/**
 * A TCP port nobody listens on right now. Probed on every interface, because
 * DynamoDB Local (Jetty) binds the wildcard address, not only the loopback one.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error(`unexpected server address: ${String(address)}`));
      });
    });
  });
}

/** True when a server could listen on `port` on every interface right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}
