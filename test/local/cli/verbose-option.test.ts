import { describe, expect, it } from 'vitest';
import { parseOptions, USAGE } from '../../../local/cli/options.js';

const APP = ['--app', 'npx tsx bin/app.ts'];

describe('realtime-local --verbose', () => {
  it('prints for people by default', () => {
    expect(parseOptions(APP, {}).verbose).toBeUndefined();
  });

  it('prints every line as written with --verbose', () => {
    expect(parseOptions([...APP, '--verbose'], {}).verbose).toBe(true);
  });

  it('prints every line as written with LOG_FORMAT=json', () => {
    expect(parseOptions(APP, { LOG_FORMAT: 'json' }).verbose).toBe(true);
  });

  it('names --verbose and LOG_FORMAT in its usage', () => {
    expect(USAGE).toMatch(/--verbose/);
    expect(USAGE).toMatch(/LOG_FORMAT/);
  });
});
