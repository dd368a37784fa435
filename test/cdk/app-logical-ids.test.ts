import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { synthStack, templateJson } from '../support/synth.js';

/** The prod stack's logical ids before its API became the RealtimeApi construct. */
const BEFORE = JSON.parse(
  readFileSync(new URL('./fixtures/logical-ids-9871ad0.json', import.meta.url), 'utf8'),
) as { prod: string[] };

/**
 * Resources whose logical id embeds another construct's unique id (its full
 * path): replaced on the first update, which is harmless, since none holds
 * data or a name. Lambda's event source mapping for presence is created
 * before the old one is deleted, so presence changes of those seconds may be
 * announced twice; members' views are sets, so they end the same.
 */
const REPLACED = [
  /^PresenceHandlerDynamoDBEventSourceRealtimeDataTable/,
  /^SweepScheduleAllowEventRuleRealtimeSweepHandler/,
  /^WebSocketApiRealtimeWebSocketApiAuthorizer.*Permission/,
];

describe('the standalone app, now a user of RealtimeApi', () => {
  const { template } = synthStack();
  const now = new Set(Object.keys(templateJson(template).Resources));

  it('keeps the logical id of every resource it had, so a deployed stack updates in place', () => {
    const lost = BEFORE.prod.filter(
      (id) => !now.has(id) && !REPLACED.some((pattern) => pattern.test(id)),
    );
    expect(lost).toEqual([]);
  });

  it('keeps the table, the secret, the API and its stage above all', () => {
    for (const id of [
      'DataTableFDBAD0F2',
      'JwtSecretB8834B39',
      'WebSocketApi273F6915',
      'WebSocketStageE8999091',
    ]) {
      expect(now.has(id), id).toBe(true);
    }
  });

  it('adds no resource', () => {
    expect(now.size).toBe(BEFORE.prod.length);
  });
});
