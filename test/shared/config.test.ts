import { describe, expect, it } from 'vitest';
import { DEFAULT_HOOK_TIMEOUT_MS, readHookTimeoutMs } from '../../lambdas/shared/config.js';

describe('HOOK_TIMEOUT_MS', () => {
  it('defaults to 3 s when unset or empty', () => {
    expect(DEFAULT_HOOK_TIMEOUT_MS).toBe(3_000);
    expect(readHookTimeoutMs({})).toBe(3_000);
    expect(readHookTimeoutMs({ HOOK_TIMEOUT_MS: '' })).toBe(3_000);
  });

  it('reads a whole number of milliseconds', () => {
    expect(readHookTimeoutMs({ HOOK_TIMEOUT_MS: '250' })).toBe(250);
  });

  it.each(['0', '-5', 'soon', 'Infinity'])('refuses "%s" at init, naming the variable', (raw) => {
    expect(() => readHookTimeoutMs({ HOOK_TIMEOUT_MS: raw })).toThrow(
      `HOOK_TIMEOUT_MS must be a positive number, got "${raw}"`,
    );
  });

  it('refuses a fraction of a millisecond', () => {
    expect(() => readHookTimeoutMs({ HOOK_TIMEOUT_MS: '2.5' })).toThrow(
      'HOOK_TIMEOUT_MS must be a whole number, got "2.5"',
    );
  });
});
