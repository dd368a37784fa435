import { describe, expect, it } from 'vitest';
import type { AdmitOutcome, AdmitRequest } from '../../lambdas/domain/ports.js';
import { ping } from '../../lambdas/domain/requests/ping.js';
import { createMessageHandler } from '../../lambdas/handlers/message-handler.js';
import { routeEvent } from '../support/events.js';
import { FakeConnections, fakeServices } from '../support/fakes.js';

/** Connections that remember the time each request is counted at. */
class CountingConnections extends FakeConnections {
  readonly countedAt: number[] = [];

  override async admit(request: AdmitRequest): Promise<AdmitOutcome> {
    this.countedAt.push(request.now);
    return super.admit(request);
  }
}

describe('a message route', () => {
  it("counts a request against the rate limit at API Gateway's requestTimeEpoch, not when it runs", async () => {
    const world = fakeServices();
    const connections = new CountingConnections();
    await connections.put({
      userId: 'alice',
      connectionId: 'a1',
      name: 'alice',
      connectedAt: Date.now() - 60_000,
    });
    const event = routeEvent('ping', JSON.stringify({ action: 'ping' }), { connectionId: 'a1' });
    // Queued for 7 s before this invocation ran.
    const arrived = Date.now() - 7_000;
    Object.assign(event.requestContext, { requestTimeEpoch: arrived });

    const result = await createMessageHandler('ping', ping, { ...world.services, connections })(
      event,
    );

    expect(JSON.parse(result.body ?? '{}')).toMatchObject({ type: 'pong' });
    expect(connections.countedAt).toEqual([arrived]);
  });
});
