import { afterEach, describe, expect, it } from 'vitest';
import { GatewayHarness } from '../support/gateway-harness.js';
import { until } from '../support/wait.js';

let harness: GatewayHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(): Promise<GatewayHarness> {
  harness = await GatewayHarness.start({
    routes: { $connect: {}, $disconnect: {}, $default: { twoWay: true }, send: { twoWay: true } },
  });
  return harness;
}

/** A `send` frame of exactly `bytes` bytes. */
function frameOf(bytes: number): string {
  const empty = JSON.stringify({ action: 'send', pad: '' });
  return JSON.stringify({ action: 'send', pad: 'x'.repeat(bytes - empty.length) });
}

describe('client frames', () => {
  it('closes the connection with 1003 on a binary frame', async () => {
    const api = await start();
    const client = await api.connect();

    client.socket.send(Buffer.from('{"action":"send"}'), { binary: true });

    expect((await client.closeStatus()).code).toBe(1003);
    expect(api.eventsOf('send')).toEqual([]);
  });

  it('closes the connection with 1009 on a frame over 32 KiB', async () => {
    const api = await start();
    const client = await api.connect();

    client.socket.send(frameOf(32 * 1024 + 1));

    expect((await client.closeStatus()).code).toBe(1009);
    expect(api.eventsOf('send')).toEqual([]);
  });

  it('routes a frame of exactly 32,768 bytes', async () => {
    const api = await start();
    const client = await api.connect();
    const frame = frameOf(32_768);

    client.socket.send(frame);
    await until(() => api.eventsOf('send').length === 1, 'the send route');

    expect(Buffer.byteLength(api.eventsOf('send')[0]?.body ?? '')).toBe(32_768);
    expect(client.socket.readyState).toBe(client.socket.OPEN);
  });

  // API Gateway's quotas: frames of at most 32 KB, messages of at most 128 KB split into such
  // frames. https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html
  // Deliberately stricter locally: ws limits whole messages, not frames, and PROTOCOL.md
  // section 2 makes every client message one frame of at most 32 KiB, so the local gateway
  // refuses a larger message however it is fragmented (README, limits of the emulation).
  it('closes a 64 KiB message sent as two 32 KiB fragments with 1009, as the protocol caps a message at 32 KiB', async () => {
    const api = await start();
    const client = await api.connect();
    const message = frameOf(64 * 1024);

    client.socket.send(message.slice(0, 32 * 1024), { fin: false });
    client.socket.send(message.slice(32 * 1024), { fin: true });

    expect((await client.closeStatus()).code).toBe(1009);
    expect(api.eventsOf('send')).toEqual([]);
  });

  it('closes the connection with 1009 on a fragmented message over 128 KiB', async () => {
    const api = await start();
    const client = await api.connect();
    const message = frameOf(128 * 1024 + 1);

    for (let offset = 0; offset < message.length; offset += 32 * 1024) {
      const fin = offset + 32 * 1024 >= message.length;
      client.socket.send(message.slice(offset, offset + 32 * 1024), { fin });
    }

    expect((await client.closeStatus()).code).toBe(1009);
    expect(api.eventsOf('send')).toEqual([]);
  });
});
