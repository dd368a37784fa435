// Run after any `npm install`: `node scripts/fix-lockfile.mjs`.
//
// This registry does not carry Biome's binaries for other platforms (404), so
// npm leaves them out of package-lock.json, and `npm ci` then refuses the lock
// file as out of sync with @biomejs/biome's optionalDependencies. Recording
// them as optional, platform-gated entries satisfies `npm ci`; they are never
// fetched on linux-x64 (the only platform CI and the developers' machines use).
import { readFileSync, writeFileSync } from 'node:fs';

const LOCK = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(LOCK, 'utf8'));
const packages = lock.packages;
const biome = packages['node_modules/@biomejs/biome'];
let added = 0;
for (const [name, version] of Object.entries(biome?.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (key in packages) continue;
  // @biomejs/cli-<os>-<cpu>[-musl]
  const [os, cpu, libc] = name.replace('@biomejs/cli-', '').split('-');
  packages[key] = {
    version,
    cpu: [cpu],
    dev: true,
    license: biome.license,
    optional: true,
    os: [os],
    ...(libc === 'musl' ? { libc: ['musl'] } : {}),
    engines: biome.engines,
  };
  added++;
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) =>
    a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0,
  ),
);
writeFileSync(LOCK, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: ${added} platform entr${added === 1 ? 'y' : 'ies'} added`);
