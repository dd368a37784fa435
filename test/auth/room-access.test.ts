import { describe, expect, it } from 'vitest';
import { roomAllowed } from '../../lambdas/auth/room-access.js';

describe('roomAllowed', () => {
  it('allows every room when the claim was absent (null)', () => {
    expect(roomAllowed(null, 'lobby')).toBe(true);
    expect(roomAllowed(null, 'doc:42')).toBe(true);
  });

  it('allows no room for an empty array', () => {
    expect(roomAllowed([], 'lobby')).toBe(false);
    expect(roomAllowed([], '')).toBe(false);
  });

  it('allows an exact name and nothing that merely starts with it', () => {
    expect(roomAllowed(['lobby'], 'lobby')).toBe(true);
    expect(roomAllowed(['lobby'], 'lobby2')).toBe(false);
    expect(roomAllowed(['lobby'], 'Lobby')).toBe(false);
    expect(roomAllowed(['lobby'], 'lob')).toBe(false);
  });

  it('matches the prefix itself and every name starting with it for a pattern ending in *', () => {
    expect(roomAllowed(['doc:*'], 'doc:')).toBe(true);
    expect(roomAllowed(['doc:*'], 'doc:x')).toBe(true);
    expect(roomAllowed(['doc:*'], 'doc:x:y')).toBe(true);
    expect(roomAllowed(['doc:*'], 'doc')).toBe(false);
    expect(roomAllowed(['doc:*'], 'docs:x')).toBe(false);
    expect(roomAllowed(['doc:*'], 'x:doc:1')).toBe(false);
  });

  it('allows every room for * alone', () => {
    expect(roomAllowed(['*'], 'lobby')).toBe(true);
    expect(roomAllowed(['*'], 'doc:42')).toBe(true);
  });

  it('treats * as a wildcard only at the end of a pattern', () => {
    expect(roomAllowed(['*:1'], 'doc:1')).toBe(false);
    expect(roomAllowed(['*:1'], '*:1')).toBe(true);
  });

  it('allows a room when any one of several patterns matches', () => {
    expect(roomAllowed(['lobby', 'doc:*'], 'doc:7')).toBe(true);
    expect(roomAllowed(['lobby', 'doc:*'], 'lobby')).toBe(true);
    expect(roomAllowed(['lobby', 'doc:*'], 'team:1')).toBe(false);
  });
});
