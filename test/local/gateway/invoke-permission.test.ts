import { afterEach, describe, expect, it } from 'vitest';
import {
  AUTHORIZER_ID,
  allow,
  GatewayHarness,
  STAGE,
  succeed,
} from '../support/gateway-harness.js';

let harness: GatewayHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const API = 'arn:aws:execute-api:us-east-1:000000000000:local';

/** An API whose functions API Gateway may invoke unless `refused` names their source ARN. */
async function start(refused: readonly string[] = []) {
  const asked: { functionId: string; sourceArn: string }[] = [];
  harness = await GatewayHarness.start({
    routes: {
      $connect: {},
      $disconnect: {},
      send: { twoWay: true, handler: () => succeed({ statusCode: 200, body: '{"type":"ack"}' }) },
    },
    authorizer: () => succeed(allow('user-1')),
    mayInvoke: (functionId, sourceArn) => {
      asked.push({ functionId, sourceArn });
      return !refused.includes(sourceArn);
    },
  });
  return { api: harness, asked };
}

describe("API Gateway's permission to invoke a function", () => {
  it("asks for each invocation with the route's or the authorizer's execute-api ARN", async () => {
    const { api, asked } = await start();
    const client = await api.connect('token=abc');
    client.socket.send(JSON.stringify({ action: 'send' }));
    await client.next();

    expect(asked).toEqual([
      { functionId: AUTHORIZER_ID, sourceArn: `${API}/authorizers/${AUTHORIZER_ID}` },
      { functionId: '$connect', sourceArn: `${API}/${STAGE}/$connect` },
      { functionId: 'send', sourceArn: `${API}/${STAGE}/send` },
    ]);
  });

  it('refuses the handshake with 500 when the authorizer may not be invoked, and never runs it', async () => {
    const { api } = await start([`${API}/authorizers/${AUTHORIZER_ID}`]);

    expect(await api.handshake('token=abc')).toMatchObject({
      kind: 'refused',
      status: 500,
      body: '{"message":"Internal server error"}',
    });
    expect(api.calls).toEqual([]);
    expect(api.gateway.connections.size).toBe(0);
  });

  it('refuses the handshake with 500 when the $connect function may not be invoked', async () => {
    const { api } = await start([`${API}/${STAGE}/$connect`]);

    expect(await api.handshake('token=abc')).toMatchObject({ kind: 'refused', status: 500 });
    expect(api.eventsOf('$connect')).toEqual([]);
    expect(api.gateway.connections.size).toBe(0);
  });

  it('answers a frame Internal server error when its route’s function may not be invoked, and never runs it', async () => {
    const { api } = await start([`${API}/${STAGE}/send`]);
    const client = await api.connect('token=abc');

    client.socket.send(JSON.stringify({ action: 'send' }));

    expect(await client.nextJson()).toEqual({
      message: 'Internal server error',
      connectionId: api.lastConnectionId(),
      requestId: expect.any(String),
    });
    expect(api.eventsOf('send')).toEqual([]);
  });
});
