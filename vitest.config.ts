import { defineConfig } from 'vitest/config';
import { FileOrder } from './test/support/file-order.js';

/**
 * Files whose tests hold a time bound on the local stack under load (a
 * reload served within 2 s, /dev/token within 200 ms, paced senders): they
 * run one at a time after the rest, with the machine to themselves.
 */
const ALONE = ['test/local/watch-mode.test.ts', 'test/security/chaos.test.ts'];

/**
 * Pure computations (template assertions, domain rules, the protocol's
 * validators): no mocks, timers or globals to leak, so they share one
 * process and its loaded modules. A fresh process per file would pay Node's
 * start, aws-cdk-lib's import and the first synthesis's JIT warm-up (about
 * 4 s of CPU a CDK file) 40 times over.
 */
const PURE = [
  'test/cdk/**/*.test.ts',
  'test/domain/**/*.test.ts',
  'test/protocol/**/*.test.ts',
  'test/shared/**/*.test.ts',
  'test/bench/**/*.test.ts',
  'test/local/assembly/**/*.test.ts',
];

/**
 * Files whose stacks are plain (the global setup's assembly, no settings of
 * their own) and that name their data afresh and never read the whole table:
 * the files one worker runs share one warm stack per engine
 * (test/support/plain-local-stack.ts).
 */
const SHARING_STACKS = [
  'test/integration/protocol.test.ts',
  'test/integration/connections.test.ts',
  'test/integration/publish.test.ts',
  'test/client/package.test.ts',
  'test/client-integration/sdk-recovery.test.ts',
  'test/browser/chat.test.ts',
  'test/browser/publish-cli.test.ts',
];

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 120_000,
    // Fail on it.only / describe.only even when the linter is bypassed.
    allowOnly: false,
    sequence: { sequencer: FileOrder },
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          include: ['test/**/*.test.ts'],
          exclude: [...ALONE, ...PURE, ...SHARING_STACKS],
          // Two files at once: most wait on sockets, engines and child processes. A third
          // was no faster once the suite's CPU had come down (334 s against 316 s here),
          // and made the bounds on asynchronous work tighter than they are meant to be.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'pure',
          include: PURE,
          isolate: false,
          // Beside the files above, in the same two workers (vitest requires one count per group).
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'stacks',
          include: SHARING_STACKS,
          // Modules, and so the plain stacks, live as long as the worker.
          isolate: false,
          provide: { shareLocalStacks: true },
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'alone', include: ALONE, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
