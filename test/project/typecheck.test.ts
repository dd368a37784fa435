import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { TSC } from '../../scripts/typescript.mjs';
import { run } from '../client/support/packed-client.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// vitest strips types without checking them: this is the check, run beside
// the other files instead of before all of them (`npm run typecheck` alone).
it('type-checks the sources, tests, benches and scripts with no error', async () => {
  await expect(
    run(process.execPath, [TSC, '-p', 'tsconfig.json', '--noEmit'], ROOT, 170_000),
  ).resolves.toEqual({ stdout: '', stderr: '' });
}, 180_000);
