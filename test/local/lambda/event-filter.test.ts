import { describe, expect, it } from 'vitest';
import {
  type FilterPattern,
  FilterPatternError,
  keysCouldMatch,
  matchesAny,
  matchesPattern,
  parseFilterPattern,
} from '../../../local/lambda/event-filter.js';

/** A record of a membership item, as the stream delivers it. */
const membership = {
  eventName: 'INSERT',
  dynamodb: {
    Keys: { pk: { S: 'room#lobby' }, sk: { S: 'member#ann' } },
    NewImage: {
      pk: { S: 'room#lobby' },
      sk: { S: 'member#ann' },
      conns: { SS: ['c1', 'c2'] },
      name: { S: 'Ann' },
    },
    SizeBytes: 70,
  },
};

const matches = (pattern: object, event: unknown = membership) =>
  matchesPattern(parseFilterPattern(JSON.stringify(pattern)), event);

describe('Lambda event filtering', () => {
  it('matches exact values, any of a list', () => {
    expect(matches({ eventName: ['INSERT'] })).toBe(true);
    expect(matches({ eventName: ['MODIFY', 'INSERT'] })).toBe(true);
    expect(matches({ eventName: ['REMOVE'] })).toBe(false);
    expect(matches({ dynamodb: { SizeBytes: [70] } })).toBe(true);
  });

  it('requires every field of a pattern to match', () => {
    expect(
      matches({ eventName: ['INSERT'], dynamodb: { NewImage: { name: { S: ['Ann'] } } } }),
    ).toBe(true);
    expect(
      matches({ eventName: ['INSERT'], dynamodb: { NewImage: { name: { S: ['Bob'] } } } }),
    ).toBe(false);
  });

  it('matches a prefix, a suffix and a value in any case', () => {
    expect(matches({ dynamodb: { Keys: { sk: { S: [{ prefix: 'member#' }] } } } })).toBe(true);
    expect(matches({ dynamodb: { Keys: { sk: { S: [{ prefix: 'msg#' }] } } } })).toBe(false);
    expect(matches({ dynamodb: { Keys: { sk: { S: [{ suffix: '#ann' }] } } } })).toBe(true);
    expect(matches({ eventName: [{ 'equals-ignore-case': 'insert' }] })).toBe(true);
  });

  it('matches anything but the values, or anything but a prefix', () => {
    expect(matches({ eventName: [{ 'anything-but': ['REMOVE', 'MODIFY'] }] })).toBe(true);
    expect(matches({ eventName: [{ 'anything-but': 'INSERT' }] })).toBe(false);
    expect(
      matches({ dynamodb: { Keys: { pk: { S: [{ 'anything-but': { prefix: 'room#' } }] } } } }),
    ).toBe(false);
    // A field that is not there has no value to be anything but.
    expect(matches({ dynamodb: { Keys: { zz: { S: [{ 'anything-but': 'x' }] } } } })).toBe(false);
  });

  it('tells present fields from absent ones, only leaves counting as present', () => {
    expect(matches({ dynamodb: { NewImage: { name: { S: [{ exists: true }] } } } })).toBe(true);
    expect(matches({ dynamodb: { OldImage: { name: { S: [{ exists: false }] } } } })).toBe(true);
    expect(matches({ dynamodb: { OldImage: { name: { S: [{ exists: true }] } } } })).toBe(false);
    // `name` holds an object, not a leaf: to `exists` it is absent, as AWS documents.
    expect(matches({ dynamodb: { NewImage: { name: [{ exists: true }] } } })).toBe(false);
  });

  it('compares numbers with numeric ranges, and only numbers', () => {
    expect(matches({ dynamodb: { SizeBytes: [{ numeric: ['>', 0, '<=', 70] }] } })).toBe(true);
    expect(matches({ dynamodb: { SizeBytes: [{ numeric: ['<', 70] }] } })).toBe(false);
    expect(matches({ dynamodb: { SizeBytes: [{ numeric: ['=', 70] }] } })).toBe(true);
    // DynamoDB numbers are strings in the record: {"N": "5"} is no number to compare.
    expect(matches({ n: [{ numeric: ['=', 5] }] }, { n: '5' })).toBe(false);
  });

  it('matches a list in the record when any of its elements matches', () => {
    expect(matches({ dynamodb: { NewImage: { conns: { SS: ['c2'] } } } })).toBe(true);
    expect(matches({ dynamodb: { NewImage: { conns: { SS: ['c3'] } } } })).toBe(false);
  });

  it('lets a record through when any filter matches, and every record without filters', () => {
    const patterns = [{ eventName: ['REMOVE'] }, { eventName: ['INSERT'] }].map((pattern) =>
      parseFilterPattern(JSON.stringify(pattern)),
    );

    expect(matchesAny(patterns, membership)).toBe(true);
    expect(matchesAny(patterns.slice(0, 1), membership)).toBe(false);
    expect(matchesAny([], membership)).toBe(true);
  });

  it('refuses patterns Lambda would not accept, naming the fault', () => {
    const refused = (text: string) => {
      try {
        parseFilterPattern(text);
      } catch (error) {
        return error instanceof FilterPatternError ? error.code : 'other error';
      }
      return 'accepted';
    };

    expect(refused('{not json')).toBe('filter_pattern_invalid');
    expect(refused('{"eventName": "INSERT"}')).toBe('filter_pattern_invalid');
    expect(refused('{"eventName": []}')).toBe('filter_pattern_invalid');
    expect(refused('{"eventName": [{"wildcard": "IN*"}]}')).toBe('filter_pattern_invalid');
    expect(refused('{"n": [{"numeric": [">", "five"]}]}')).toBe('filter_pattern_invalid');
    expect(refused('{"$or": [{"a": ["b"]}]}')).toBe('filter_pattern_invalid');
  });
});

describe('deciding from the keys alone whether a record could match', () => {
  const members: FilterPattern[] = [
    parseFilterPattern('{"dynamodb":{"Keys":{"sk":{"S":[{"prefix":"member#"}]}}}}'),
  ];

  it('rules out items whose keys fail every filter’s constraint on the keys', () => {
    expect(keysCouldMatch(members, { pk: { S: 'room#a' }, sk: { S: 'member#ann' } })).toBe(true);
    expect(keysCouldMatch(members, { pk: { S: 'room#a' }, sk: { S: 'member' } })).toBe(false);
    expect(keysCouldMatch(members, { pk: { S: 'user#a' }, sk: { S: 'conn#1' } })).toBe(false);
  });

  it('keeps every item when a filter says nothing of the keys, or there is no filter', () => {
    const byEvent = [...members, parseFilterPattern('{"eventName":["REMOVE"]}')];

    expect(keysCouldMatch(byEvent, { pk: { S: 'user#a' }, sk: { S: 'conn#1' } })).toBe(true);
    expect(keysCouldMatch([], { pk: { S: 'user#a' }, sk: { S: 'conn#1' } })).toBe(true);
  });
});
