#!/usr/bin/env node
// The `realtime-local` command of the installed package. Plain JavaScript that
// any Node parses, so an older Node hears why it cannot run, not a syntax error.
const MINIMUM_MAJOR = 22;
const major = Number(process.versions.node.split('.')[0]);
if (major < MINIMUM_MAJOR) {
  console.error(
    `realtime-local needs Node.js ${MINIMUM_MAJOR} or newer; this is Node.js ${process.versions.node}. ` +
      'Install a current Node.js (https://nodejs.org) and run it again.',
  );
  process.exit(1);
}
const { runRealtimeLocal } = await import('../dist/local/cli/realtime-local.js');
await runRealtimeLocal(process.argv.slice(2));
