import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest here (15 s and more in one slot), longest first:
 * each starts before the rest of its project, so that none is left running
 * alone at the end. vitest orders by the durations of the last run where it
 * has them, but a clean checkout (CI) has none and gets the order of file
 * sizes, which put the consumer test (70 s) 14th.
 */
const LONGEST = [
  'test/integration/protocol.test.ts',
  'test/browser/chat.test.ts',
  'test/integration/connections.test.ts',
  'test/integration/publish.test.ts',
  'test/cdk/realtime-api.test.ts',
  'test/cdk/nag.test.ts',
  'test/cdk/stages.test.ts',
  'test/consumer/consumer-app.test.ts',
  'test/adapters/dynamo-connection-store.test.ts',
  'test/integration/limits.test.ts',
  'test/security/fuzz.test.ts',
  'test/local/start.test.ts',
  'test/integration/call-counts.test.ts',
  'test/browser/presence.test.ts',
  'test/local/dynamo/engines.test.ts',
  'test/integration/large-rooms.test.ts',
  'test/integration/sweep.test.ts',
  'test/local/iam/template-grants.test.ts',
  'test/security/jwt-handshake.test.ts',
];

/** vitest's order of test files (a group's projects by name), with {@link LONGEST} first in each. */
export class FileOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const root = `${this.ctx.config.root}/`;
    // A file renamed or removed would silently lose its place.
    const missing = LONGEST.filter((path) => !existsSync(join(root, path)));
    if (missing.length > 0)
      throw new Error(`file-order.ts lists missing files: ${missing.join(', ')}`);
    const rank = (spec: TestSpecification): (number | string)[] => {
      const longest = LONGEST.indexOf(spec.moduleId.replace(root, ''));
      return [
        spec.project.config.sequence.groupOrder,
        spec.project.name,
        longest === -1 ? LONGEST.length : longest,
      ];
    };
    // Stable: files of equal rank keep vitest's order.
    return sorted.sort((a, b) => {
      const [ra, rb] = [rank(a), rank(b)];
      const differs = ra.findIndex((value, index) => value !== rb[index]);
      if (differs === -1) return 0;
      return (ra[differs] ?? 0) < (rb[differs] ?? 0) ? -1 : 1;
    });
  }
}
