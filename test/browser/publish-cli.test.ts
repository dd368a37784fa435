import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fresh } from '../integration/support/local-stack-fixture.js';
import { useChatBrowser } from './support/chat-fixture.js';
import { chromiumFound, WAIT_MS } from './support/chat-page.js';

const poll = { timeout: WAIT_MS, interval: 100 };
/** tsx compiles the script and the SDK loads: a few seconds, bounded well above that. */
const CLI_TIMEOUT_MS = 30_000;
const ROOT = new URL('../../', import.meta.url).pathname;

/** A room no other test uses, on the stack it may share with other files. */
const freshRoom = () => fresh('publish');

/** How the command ended. */
interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `npx tsx scripts/publish.ts` (what `npm run publish --` runs) against the stack on `port`. */
function publishCli(port: number, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['tsx', 'scripts/publish.ts', ...args],
      { cwd: ROOT, env: { ...process.env, PORT: String(port) }, timeout: CLI_TIMEOUT_MS },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe.skipIf(!chromiumFound)('npm run publish to the demo chat in Chromium', () => {
  const demo = useChatBrowser();
  const { open } = demo;

  it(
    'shows a message published from the command line on a page in the room',
    async () => {
      const room = freshRoom();
      const grace = await open('Grace', room);
      await grace.say('before the deploy');
      await expect.poll(() => grace.texts(), poll).toEqual(['before the deploy']);

      const run = await publishCli(demo.stack.port, [
        '--room',
        room,
        '--data',
        JSON.stringify({ text: 'Deploy finished' }),
        '--from-id',
        'ci',
        '--from-name',
        'CI',
      ]);

      expect(run, run.stderr).toMatchObject({ code: 0 });
      expect(JSON.parse(run.stdout)).toEqual({ ok: true, room, seq: 2, delivered: 1 });
      await expect
        .poll(() => grace.texts(), poll)
        .toEqual(['before the deploy', 'Deploy finished']);
      const shown = await grace.messages();
      expect(shown[1]).toMatchObject({ seq: 2, from: 'CI', text: 'Deploy finished' });
      expect(grace.pageErrors).toEqual([]);
    },
    CLI_TIMEOUT_MS + WAIT_MS * 3,
  );

  it(
    'prints the refusal and exits 1 for a bad input, showing nothing on the page',
    async () => {
      const room = freshRoom();
      const heidi = await open('Heidi', room);

      const run = await publishCli(demo.stack.port, [
        '--room',
        room,
        '--data',
        JSON.stringify({ text: 'x'.repeat(16_384) }),
      ]);

      expect(run, run.stderr).toMatchObject({ code: 1 });
      expect(JSON.parse(run.stdout)).toEqual({
        ok: false,
        error: { code: 'too_large', message: expect.any(String) },
      });
      await heidi.say('still first');
      await expect
        .poll(() => heidi.messages(), poll)
        .toEqual([expect.objectContaining({ seq: 1, text: 'still first' })]);
    },
    CLI_TIMEOUT_MS + WAIT_MS * 3,
  );
});
