import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sourcesOfSourceMap } from '../../../local/dev/bundle-rebuilder.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function mapFile(map: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'source-map-'));
  dirs.push(dir);
  const file = join(dir, 'index.mjs.map');
  writeFileSync(file, JSON.stringify(map));
  return file;
}

describe('the sources of a source map, read from its beginning', () => {
  it('are the sources JSON.parse reads, with escapes, brackets and non-ASCII names', () => {
    const sources = ['../src/a.ts', '../src/[id]/b.ts', '../src/quote\\"d.ts', '../src/ünïcode.ts'];
    const file = mapFile({ version: 3, sources, sourcesContent: ['x'], mappings: 'AAAA' });

    expect(sourcesOfSourceMap(file)).toEqual(sources);
  });

  it('are found when the array runs past the first piece read', () => {
    const sources = Array.from({ length: 3_000 }, (_, index) => `../node_modules/pkg/ñ${index}.js`);
    const file = mapFile({ version: 3, sources, mappings: '' });

    expect(sourcesOfSourceMap(file)).toEqual(sources);
  });

  it('are none for a map without sources', () => {
    expect(sourcesOfSourceMap(mapFile({ version: 3, mappings: '' }))).toEqual([]);
  });
});
