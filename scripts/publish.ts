import { runPublish } from './publish-cli.js';

/** `npm run publish -- --room R --data '{...}'`: see USAGE in publish-cli.ts. */
process.exitCode = await runPublish(process.argv.slice(2), process.env, {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
});
