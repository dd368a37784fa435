import { answerHelp } from './support.js';

/** `npm run bench`: the send bench, then the presence bench, in one process each after the other. */
answerHelp(`
npm run bench: the send bench (bench/run.ts) and then the presence bench
(bench/presence.ts). For what each measures and its settings:
  npx tsx bench/run.ts --help
  npx tsx bench/presence.ts --help
`);
await import('./run.js');
await import('./presence.js');
