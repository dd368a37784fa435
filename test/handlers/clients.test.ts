import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createNotifier, createServices } from '../../lambdas/handlers/clients.js';
import { startInvocation } from '../../lambdas/shared/invocation-deadline.js';

/** A server that accepts connections and reads requests but never answers: a hung request. */
let server: Server;
let port: number;
const sockets = new Set<Socket>();

beforeEach(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
  // Little time left: the first attempt's timeout ends the retries.
  startInvocation({ getRemainingTimeInMillis: () => 1_200 });
});

afterEach(async () => {
  startInvocation(undefined);
  vi.unstubAllEnvs();
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await new Promise((resolve) => server.close(resolve));
});

describe("the functions' SDK clients", () => {
  it('fail a post the management API never answers with TimeoutError after 5 s', async () => {
    const notifier = createNotifier({ CALLBACK_URL: `http://127.0.0.1:${port}/local` });
    const started = Date.now();
    await expect(notifier.post('conn-1', '{}')).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_900);
  }, 15_000);

  it('fail a DynamoDB request that is never answered with TimeoutError after 3 s', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', `http://127.0.0.1:${port}`);
    const services = createServices({ TABLE_NAME: 'Realtime' });
    const started = Date.now();
    await expect(services.messages.nextSeq('lobby')).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
  }, 15_000);
});
