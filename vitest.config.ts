import { defineConfig } from 'vitest/config';

/**
 * Files whose tests hold a time bound on the local stack under load (a
 * reload served within 2 s, /dev/token within 200 ms, paced senders): they
 * run one at a time after the rest, with the machine to themselves.
 */
const ALONE = ['test/local/watch-mode.test.ts', 'test/security/chaos.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 120_000,
    // Fail on it.only / describe.only even when the linter is bypassed.
    allowOnly: false,
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          include: ['test/**/*.test.ts'],
          exclude: ALONE,
          // Two files at once: most wait on sockets, engines and child processes.
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
