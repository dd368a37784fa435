import { describe, expect, it } from 'vitest';
import { parseFrame, serializedSize, utf8Length } from '../../protocol/validate.js';

function problemOf(text: string) {
  const parsed = parseFrame(text);
  if (parsed.ok) throw new Error(`expected a problem for ${text}`);
  return parsed.problem;
}

describe('parseFrame', () => {
  it.each([
    ['not JSON', '{"action":'],
    ['a JSON array', '["join"]'],
    ['a JSON string', '"join"'],
    ['JSON null', 'null'],
    ['an empty frame', ''],
  ])('refuses %s with bad_request', (_, text) => {
    expect(problemOf(text).code).toBe('bad_request');
  });

  it.each([
    ['no action', '{"room":"a"}'],
    ['a number action', '{"action":5}'],
    ['an unknown action', '{"action":"shout"}'],
    ['a differently cased action', '{"action":"Join","room":"a"}'],
  ])('refuses %s with unknown_action', (_, text) => {
    expect(problemOf(text).code).toBe('unknown_action');
  });

  it('answers unknown_action before bad_request when both apply', () => {
    expect(problemOf('{"action":"nope","id":7}').code).toBe('unknown_action');
  });

  it('echoes a valid id with the problem', () => {
    expect(problemOf('{"action":"join","id":"r1","room":"bad room"}')).toEqual({
      code: 'bad_request',
      message: expect.any(String),
      id: 'r1',
    });
  });

  it.each([
    ['a number id', '{"action":"ping","id":1}'],
    ['an empty id', '{"action":"ping","id":""}'],
    ['an id over 64 characters', `{"action":"ping","id":"${'x'.repeat(65)}"}`],
  ])('refuses %s with bad_request', (_, text) => {
    expect(problemOf(text)).toEqual({ code: 'bad_request', message: expect.any(String) });
  });

  it.each([
    ['a room with a space', { action: 'join', room: 'a b' }],
    ['a room over 64 characters', { action: 'join', room: 'r'.repeat(65) }],
    ['an empty room', { action: 'leave', room: '' }],
    ['a missing room', { action: 'typing' }],
    ['send without data', { action: 'send', room: 'a' }],
    ['direct without to', { action: 'direct', data: 1 }],
    ['direct to a 129-character user', { action: 'direct', to: 'u'.repeat(129), data: 1 }],
    ['history with a negative after', { action: 'history', room: 'a', after: -1 }],
    ['history with a fractional after', { action: 'history', room: 'a', after: 1.5 }],
    ['history with a string limit', { action: 'history', room: 'a', limit: '10' }],
    ['history with limit 0', { action: 'history', room: 'a', limit: 0 }],
    ['history with limit 101', { action: 'history', room: 'a', limit: 101 }],
    ['auth without token', { action: 'auth' }],
  ])('refuses %s with bad_request', (_, frame) => {
    expect(problemOf(JSON.stringify(frame)).code).toBe('bad_request');
  });

  it('accepts null as data', () => {
    expect(parseFrame('{"action":"send","room":"a","data":null}')).toEqual({
      ok: true,
      request: { action: 'send', room: 'a', data: null },
    });
  });

  it('fills history defaults', () => {
    expect(parseFrame('{"action":"history","room":"r.1:x_y-z"}')).toEqual({
      ok: true,
      request: { action: 'history', room: 'r.1:x_y-z', after: 0, limit: 50 },
    });
  });

  it('keeps only the fields of the request', () => {
    expect(parseFrame('{"action":"ping","id":"p","extra":true}')).toEqual({
      ok: true,
      request: { action: 'ping', id: 'p' },
    });
  });
});

describe('sizes', () => {
  it('counts UTF-8 bytes, surrogate pairs as four', () => {
    expect(utf8Length('aé€😀')).toBe(1 + 2 + 3 + 4);
    expect(utf8Length('aé€😀')).toBe(Buffer.byteLength('aé€😀'));
  });

  it('measures data by its JSON serialization', () => {
    expect(serializedSize({ a: 'é' })).toBe(Buffer.byteLength('{"a":"é"}'));
  });
});
