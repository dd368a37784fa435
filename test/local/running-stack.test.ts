import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findRunningStack, recordRunningStack } from '../../local/dev/running-stack.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'running-stack-'));
  file = join(dir, '.local-stack.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const STACK = { httpUrl: 'http://127.0.0.1:41234', url: 'ws://127.0.0.1:41234/prod' };

describe('the running local stack record', () => {
  it('finds the stack this process recorded, and nothing once it is forgotten', () => {
    const forget = recordRunningStack(STACK, file);

    expect(findRunningStack(file)).toEqual({ ...STACK, pid: process.pid });
    forget();
    expect(findRunningStack(file)).toBeUndefined();
  });

  it('ignores a record whose process has ended (npm start was killed)', () => {
    // Far above Linux's pid_max: no process has it.
    writeFileSync(file, JSON.stringify({ ...STACK, pid: 2 ** 30 }));

    expect(findRunningStack(file)).toBeUndefined();
  });

  it('ignores a missing or malformed record', () => {
    expect(findRunningStack(file)).toBeUndefined();
    writeFileSync(file, '{"httpUrl":');
    expect(findRunningStack(file)).toBeUndefined();
  });

  it("leaves another stack's record in place when forgetting", () => {
    const forget = recordRunningStack(STACK, file);
    writeFileSync(file, JSON.stringify({ ...STACK, pid: process.ppid }));

    forget();

    expect(findRunningStack(file)?.pid).toBe(process.ppid);
  });
});
