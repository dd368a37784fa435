import { describe, expect, it } from 'vitest';
import { originAllowed } from '../../lambdas/auth/origin.js';

const ALLOWED = ['https://app.example.com', 'http://localhost:5173'];

describe('originAllowed', () => {
  it('accepts any origin when no list is configured', () => {
    expect(originAllowed(undefined, { Origin: 'https://evil.example.com' })).toBe(true);
  });

  it('accepts a listed origin', () => {
    expect(originAllowed(ALLOWED, { Origin: 'https://app.example.com' })).toBe(true);
    expect(originAllowed(ALLOWED, { Origin: 'http://localhost:5173' })).toBe(true);
  });

  it('refuses an origin that is not listed', () => {
    expect(originAllowed(ALLOWED, { Origin: 'https://evil.example.com' })).toBe(false);
  });

  it('reads the Origin header whatever the case of its name', () => {
    for (const name of ['origin', 'Origin', 'ORIGIN', 'oRiGiN']) {
      expect(originAllowed(ALLOWED, { [name]: 'https://evil.example.com' })).toBe(false);
      expect(originAllowed(ALLOWED, { [name]: 'https://app.example.com' })).toBe(true);
    }
  });

  it('accepts a request without an Origin header', () => {
    expect(originAllowed(ALLOWED, { Host: 'abc.execute-api.eu-west-1.amazonaws.com' })).toBe(true);
    expect(originAllowed(ALLOWED, {})).toBe(true);
    expect(originAllowed(ALLOWED, null)).toBe(true);
    expect(originAllowed(ALLOWED, undefined)).toBe(true);
  });

  it('compares scheme, host and port exactly', () => {
    for (const origin of [
      'https://app.example.com/',
      'http://app.example.com',
      'https://app.example.com:8443',
      'https://APP.example.com',
      'https://app.example.com.evil.com',
      'https://sub.app.example.com',
      'http://localhost:5174',
      'http://localhost',
    ]) {
      expect(originAllowed(ALLOWED, { Origin: origin }), origin).toBe(false);
    }
  });

  it('refuses the opaque origin null and an empty Origin', () => {
    expect(originAllowed(ALLOWED, { Origin: 'null' })).toBe(false);
    expect(originAllowed(ALLOWED, { Origin: '' })).toBe(false);
  });

  it('refuses when any of several differently cased Origin headers is not listed', () => {
    const headers = { Origin: 'https://app.example.com', origin: 'https://evil.example.com' };
    expect(originAllowed(ALLOWED, headers)).toBe(false);
  });
});
