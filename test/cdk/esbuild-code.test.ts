import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import type { BundlingRecord } from '../../lib/constructs/bundling-metadata.js';
import { EsbuildBatch } from '../../lib/constructs/esbuild-code.js';

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const SOURCES = {
  'a.mjs': "import { word } from './word.mjs';\nexport const handler = async () => word + 'a';\n",
  'b.mjs': "import { word } from './word.mjs';\nexport const handler = async () => word + 'b';\n",
  'word.mjs': "export const word = 'bundled-';\n",
};

/** A project folder with `files`, and a stack whose functions bundle from it. */
function project(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'esbuild-code-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const outdir = join(dir, 'cdk.out');
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'Bundled');
  const record = (entry: string): BundlingRecord => ({
    entry: join(dir, entry),
    projectRoot: dir,
    externals: [],
    banner: '// the banner',
    target: 'node24',
  });
  /** A function of `entry`, bundled with the others of `batch` (on its own by default). */
  const fn = (id: string, entry: string, batch = new EsbuildBatch()) =>
    new lambda.Function(stack, id, {
      code: batch.code(record(entry)),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
    });
  /** The staged bundle's folder of function `id`. */
  const bundleOf = (id: string) => {
    const template = app.synth().getStackByName('Bundled').template as {
      Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>;
    };
    const resource = Object.entries(template.Resources).find(
      ([logicalId, r]) => r.Type === 'AWS::Lambda::Function' && logicalId.startsWith(id),
    )?.[1];
    return join(outdir, String(resource?.Metadata?.['aws:asset:path']));
  };
  return { fn, bundleOf, record };
}

/** The bundle's code and source map. */
const filesOf = (dir: string) =>
  ['index.mjs', 'index.mjs.map'].map((name) => readFileSync(join(dir, name), 'utf8'));

describe('EsbuildBatch', () => {
  it('bundles each entry into its own index.mjs, minified with the banner and a source map', () => {
    const { fn, bundleOf } = project(SOURCES);
    fn('A', 'a.mjs');
    fn('B', 'b.mjs');
    const [a, b] = [bundleOf('A'), bundleOf('B')];
    expect(a).not.toBe(b);
    for (const [dir, letter] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      const text = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(text.startsWith('// the banner')).toBe(true);
      expect(text).toMatch(new RegExp(`="bundled-";.*async\\(\\)=>\\w+\\+"${letter}"`));
      expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
    }
  });

  it('builds the bundles of a batch together, each byte for byte the bundle built alone', () => {
    const alone = project(SOURCES);
    alone.fn('A', 'a.mjs');
    alone.fn('B', 'b.mjs');
    const together = project(SOURCES);
    const batch = new EsbuildBatch();
    // Added before the first function is created, as a construct does.
    batch.add(together.record('a.mjs'));
    batch.add(together.record('b.mjs'));
    together.fn('A', 'a.mjs', batch);
    together.fn('B', 'b.mjs', batch);
    for (const id of ['A', 'B']) {
      const [code, map] = filesOf(together.bundleOf(id));
      expect([code, map]).toEqual(filesOf(alone.bundleOf(id)));
      // The source map names the sources from the asset's folder.
      expect(JSON.parse(map ?? '{}').sources).toEqual([
        '../../word.mjs',
        `../../${id.toLowerCase()}.mjs`,
      ]);
    }
  });

  it("fails the synthesis with esbuild's error, naming the file and line", () => {
    const { fn } = project({ 'broken.mjs': 'export const handler = async () => {;\n' });
    expect(() => fn('Broken', 'broken.mjs')).toThrow(
      /broken\.mjs:2:0: ERROR: Unexpected end of file/,
    );
  });
});
