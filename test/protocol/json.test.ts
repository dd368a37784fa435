import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringifyJson } from '../../protocol/json.js';

describe('stringifyJson', () => {
  it('writes the same text as JSON.stringify for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(stringifyJson(value)).toBe(JSON.stringify(value));
      }),
      { numRuns: 500, seed: 42 },
    );
  });

  it('drops undefined members and nulls undefined array items, as JSON.stringify does', () => {
    const value = { a: undefined, b: [undefined, () => 1], c: 'x', d: { toJSON: () => 'y' } };
    expect(stringifyJson(value)).toBe(JSON.stringify(value));
  });

  it('serializes data nested far deeper than the stack allows JSON.stringify to', () => {
    const depth = 200_000;
    const text = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const value = JSON.parse(text) as unknown;

    expect(() => JSON.stringify(value)).toThrow(RangeError);
    expect(stringifyJson(value)).toBe(text);
  });
});
