import { afterEach, describe, expect, it } from 'vitest';
import { ping } from '../../lambdas/domain/requests/ping.js';
import { createMessageHandler } from '../../lambdas/handlers/message-handler.js';
import {
  ANSWER_MARGIN_MS,
  invocationDeadline,
  startInvocation,
} from '../../lambdas/shared/invocation-deadline.js';
import { routeEvent } from '../support/events.js';
import { fakeServices } from '../support/fakes.js';

afterEach(() => startInvocation(undefined));

describe('invocation deadline', () => {
  it('keeps back time to answer from what the Lambda context says remains', () => {
    startInvocation({ getRemainingTimeInMillis: () => 5_000 }, 1_000_000);

    expect(invocationDeadline()).toBe(1_000_000 + 5_000 - ANSWER_MARGIN_MS);
  });

  it('is unbounded when a handler is called without a context', () => {
    startInvocation({ getRemainingTimeInMillis: () => 5_000 });
    startInvocation(undefined);

    expect(invocationDeadline()).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('message handlers', () => {
  it('start the deadline from the Lambda context of each invocation', async () => {
    const services = fakeServices().services;
    const handler = createMessageHandler('ping', ping, services);
    const before = Date.now();

    await handler(routeEvent('ping', JSON.stringify({ action: 'ping' })), {
      getRemainingTimeInMillis: () => 4_000,
    });

    expect(invocationDeadline()).toBeGreaterThanOrEqual(before + 4_000 - ANSWER_MARGIN_MS);
    expect(invocationDeadline()).toBeLessThanOrEqual(Date.now() + 4_000 - ANSWER_MARGIN_MS);
  });
});
