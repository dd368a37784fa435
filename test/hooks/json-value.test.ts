import { describe, expect, it } from 'vitest';
import { jsonValueProblem } from '../../lambdas/hooks/json-value.js';

describe('jsonValueProblem', () => {
  it.each([
    ['null', null],
    ['a string', 'hi'],
    ['a boolean', false],
    ['a finite number', -0.5],
    ['an object of values', { text: 'hi', tags: ['a', 1, null, { deep: true }] }],
    ['an object without a prototype', Object.assign(Object.create(null), { a: 1 })],
    ['an empty array', []],
  ])('finds none in %s', (_, value) => {
    expect(jsonValueProblem(value)).toBeUndefined();
  });

  it('finds none in a value met twice side by side, which JSON repeats', () => {
    const shared = { a: 1 };

    expect(jsonValueProblem({ left: shared, right: [shared, shared] })).toBeUndefined();
  });

  it('walks data nested far deeper than the call stack allows recursion', () => {
    let value: unknown = 'bottom';
    for (let level = 0; level < 200_000; level++) value = [value];

    expect(jsonValueProblem(value)).toBeUndefined();
  });

  it.each([
    ['undefined', undefined, 'it holds undefined'],
    ['an undefined member', { text: 'hi', extra: undefined }, 'it holds undefined'],
    ['an array hole', new Array<number>(3).fill(1, 0, 1), 'it holds undefined'],
    ['NaN', { n: Number.NaN }, 'it holds NaN'],
    ['Infinity', [Number.POSITIVE_INFINITY], 'it holds Infinity'],
    ['a function', { f: () => 1 }, 'it holds a function'],
    ['a bigint', { n: 1n }, 'it holds a bigint'],
    ['a symbol', [Symbol('s')], 'it holds a symbol'],
    ['a Date', { at: new Date(0) }, 'it holds a Date'],
    ['a Map', new Map(), 'it holds a Map'],
    ['an instance of a class', new (class Point {})(), 'it holds a Point'],
  ])('names %s', (_, value, problem) => {
    expect(jsonValueProblem(value)).toBe(problem);
  });

  it('names a cycle', () => {
    const cyclic: Record<string, unknown> = { a: [] };
    (cyclic.a as unknown[]).push({ back: cyclic });

    expect(jsonValueProblem(cyclic)).toBe('it contains itself');
  });
});
