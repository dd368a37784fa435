import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, relative } from 'node:path';
import { App } from 'aws-cdk-lib';
import { expect, inject, it } from 'vitest';

// The global setup makes one folder the run's TMPDIR and removes it at the
// end: what the tests and their processes leave in the temporary folder (an
// App's cdk.out, DynamoDB Local's files, npm's) goes with it.
it("keeps the tests' temporary files in the run's own folder, beside the synthesized app", () => {
  const runFolder = dirname(inject('cdkOutdir'));
  const app = new App();
  try {
    expect(tmpdir()).toBe(runFolder);
    expect(relative(runFolder, app.outdir)).toMatch(/^cdk\.out\w+$/);
  } finally {
    rmSync(app.outdir, { recursive: true, force: true });
  }
});
