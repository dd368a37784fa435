import { describe, expect, it } from 'vitest';
import { parsePublishRequest, SYSTEM_USER } from '../../protocol/publish.js';

function problemOf(payload: unknown): string {
  const parsed = parsePublishRequest(payload);
  if (parsed.ok) throw new Error(`expected a problem for ${JSON.stringify(payload)}`);
  expect(parsed.problem.code).toBe('bad_request');
  return parsed.problem.message;
}

describe('parsePublishRequest', () => {
  it('accepts a publish to a room, from the system user when no one is named', () => {
    expect(parsePublishRequest({ room: 'doc:42', data: { text: 'hi' } })).toEqual({
      ok: true,
      request: { room: 'doc:42', data: { text: 'hi' }, from: SYSTEM_USER },
    });
  });

  it('accepts a publish to a user from a named sender', () => {
    const from = { userId: 'billing', name: 'Billing' };
    expect(parsePublishRequest({ user: 'alice', data: null, from })).toEqual({
      ok: true,
      request: { user: 'alice', data: null, from },
    });
  });

  it.each([
    ['null', null],
    ['an array', [{ room: 'a', data: 1 }]],
    ['a string', '{"room":"a","data":1}'],
    ['a number', 7],
  ])('refuses a payload that is %s', (_, payload) => {
    expect(problemOf(payload)).toMatch(/JSON object/);
  });

  it.each([
    ['no target', { data: 1 }],
    ['both targets', { room: 'a', user: 'b', data: 1 }],
  ])('refuses %s, asking for exactly one', (_, payload) => {
    expect(problemOf(payload)).toMatch(/exactly one target/);
  });

  it.each([
    ['a space', 'bad room'],
    ['65 characters', 'r'.repeat(65)],
    ['no character', ''],
    ['a slash', 'a/b'],
    ['a number', 42],
  ])('refuses a room name with %s by the protocol’s rule', (_, room) => {
    expect(problemOf({ room, data: 1 })).toMatch(/room must match/);
  });

  it.each([
    ['empty', ''],
    ['129 characters', 'u'.repeat(129)],
    ['a number', 5],
  ])('refuses a user id that is %s', (_, user) => {
    expect(problemOf({ user, data: 1 })).toMatch(/user must be a user id/);
  });

  it('refuses a publish without data, but takes null as a value', () => {
    expect(problemOf({ room: 'a' })).toBe('data is required.');
    expect(parsePublishRequest({ room: 'a', data: null }).ok).toBe(true);
  });

  it('refuses unknown fields, naming them, rather than ignoring them', () => {
    expect(problemOf({ room: 'a', data: 1, rooom: 'b' })).toBe(
      'Unknown field in the payload: "rooom".',
    );
    expect(problemOf({ room: 'a', data: 1, action: 'send', id: '1' })).toMatch(
      /Unknown fields in the payload: "action", "id"/,
    );
  });

  it.each([
    ['not an object', 'System'],
    ['without a name', { userId: 'ops' }],
    ['without a user id', { name: 'Ops' }],
    ['with an empty name', { userId: 'ops', name: '' }],
    ['with a user id over 128 characters', { userId: 'o'.repeat(129), name: 'Ops' }],
    ['with an unknown field', { userId: 'ops', name: 'Ops', avatar: 'x' }],
  ])('refuses a from %s', (_, from) => {
    expect(problemOf({ room: 'a', data: 1, from })).toMatch(/from/);
  });
});
