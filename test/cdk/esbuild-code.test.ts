import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { esbuildCode } from '../../lib/constructs/esbuild-code.js';

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A project folder with `files`, and a stack whose functions bundle from it. */
function project(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'esbuild-code-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const outdir = join(dir, 'cdk.out');
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'Bundled');
  const fn = (id: string, entry: string) =>
    new lambda.Function(stack, id, {
      code: esbuildCode({
        entry: join(dir, entry),
        projectRoot: dir,
        externals: [],
        banner: '// the banner',
        target: 'node24',
      }),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
    });
  /** The staged bundle of function `id`. */
  const bundleOf = (id: string) => {
    const template = app.synth().getStackByName('Bundled').template as {
      Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>;
    };
    const resource = Object.entries(template.Resources).find(
      ([logicalId, r]) => r.Type === 'AWS::Lambda::Function' && logicalId.startsWith(id),
    )?.[1];
    return join(outdir, String(resource?.Metadata?.['aws:asset:path']));
  };
  return { fn, bundleOf };
}

describe('esbuildCode', () => {
  it('bundles each entry into its own index.mjs, minified with the banner and a source map', () => {
    const { fn, bundleOf } = project({
      'a.mjs':
        "import { word } from './word.mjs';\nexport const handler = async () => word + 'a';\n",
      'b.mjs':
        "import { word } from './word.mjs';\nexport const handler = async () => word + 'b';\n",
      'word.mjs': "export const word = 'bundled-';\n",
    });
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

  it("fails the synthesis with esbuild's error, naming the file and line", () => {
    const { fn } = project({ 'broken.mjs': 'export const handler = async () => {;\n' });
    expect(() => fn('Broken', 'broken.mjs')).toThrow(
      /broken\.mjs:2:0: ERROR: Unexpected end of file/,
    );
  });
});
