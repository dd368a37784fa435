import { describe, expect, it } from 'vitest';
import { tokenExpiry } from '../../client/index.js';
import { tokenSubject } from '../../client/token-expiry.js';
import { jwtExpiringAt } from './support/fake-server.js';

/** base64url of a JSON payload, as a JWT encodes it. */
const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('tokenExpiry', () => {
  it("reads a JWT's exp without verifying it", () => {
    expect(tokenExpiry(jwtExpiringAt(1_900_000_000))).toBe(1_900_000_000);
  });

  it('decodes base64url payloads with non-ASCII claims and - or _ characters', () => {
    const payload = segment({ sub: 'zoë', name: '日本語 ~~~ ???', exp: 1_800_000_123 });
    expect(payload).toMatch(/[-_]/);
    expect(tokenExpiry(`e30.${payload}.sig`)).toBe(1_800_000_123);
  });

  it('gives undefined for a token that is no JWT or has no numeric exp', () => {
    expect(tokenExpiry('opaque-token')).toBeUndefined();
    expect(tokenExpiry('a..c')).toBeUndefined();
    expect(tokenExpiry(`e30.${segment({ sub: 'a' })}.sig`)).toBeUndefined();
    expect(tokenExpiry(`e30.${segment({ exp: '1900000000' })}.sig`)).toBeUndefined();
    expect(tokenExpiry(`e30.${segment([1, 2])}.sig`)).toBeUndefined();
    expect(tokenExpiry('e30.%%%.sig')).toBeUndefined();
  });
});

describe('tokenSubject', () => {
  it("reads a JWT's sub, UTF-8 included, without verifying it", () => {
    expect(tokenSubject(jwtExpiringAt(1_900_000_000, 'alice'))).toBe('alice');
    expect(tokenSubject(`e30.${segment({ sub: 'zoë-日本' })}.sig`)).toBe('zoë-日本');
  });

  it('gives undefined for a token that is no JWT or has no string sub', () => {
    expect(tokenSubject('opaque-token')).toBeUndefined();
    expect(tokenSubject(`e30.${segment({ sub: 42 })}.sig`)).toBeUndefined();
    expect(tokenSubject(`e30.${segment({ sub: '' })}.sig`)).toBeUndefined();
    expect(tokenSubject(`e30.${segment(['sub'])}.sig`)).toBeUndefined();
  });
});
