import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** What `realtime-local` was asked to run. */
export interface RealtimeLocalOptions {
  /** A synthesized cloud assembly (`cdk.out`) with its bundles. */
  readonly assembly?: string;
  /** A command that synthesizes the app (`cdk.json`'s `app`), run first. */
  readonly app?: string;
  /** The first port; each further API takes the next. 0 picks free ones. */
  readonly port: number;
  /** Reloads the functions when code changes, and synthesizes again when the app changes. */
  readonly watch?: boolean;
  /** Prints every line as written (metrics, whole JSON logs), not one line per request. */
  readonly verbose?: boolean;
  readonly help: boolean;
}

/** The command's usage, for `--help` and mistakes. */
export const USAGE = `Usage: realtime-local (--assembly <cdk.out> | --app "<command>") [--port <port>]

Runs every RealtimeApi of a CDK app on this machine: API Gateway's WebSocket
API, the Lambda functions (with your hooks), DynamoDB with its stream, and the
schedules, each API on its own port of 127.0.0.1. No AWS account, no Docker.

  --assembly <dir>   a cloud assembly synthesized with bundles (cdk synth's cdk.out)
  --app <command>    synthesize first with this command, as cdk.json's "app"
                     (e.g. --app "npx tsx bin/app.ts"), with cdk.json's context
  --port <port>      the first API's port; the next ones take the following
                     ports (default: free ports)
  --watch            reload when code under the working directory changes: a
                     function's sources (your hooks included) are rebuilt for
                     that function alone; other files synthesize the app again
  --verbose          print the functions' output as written: metrics (EMF)
                     and whole JSON log entries (default: one line per
                     request and the log entries made readable)
  -h, --help         this text

Environment: DYNAMODB_ENGINE (dynalite | dynamodb-local), DYNAMODB_DIR (keep
DynamoDB's state in this folder), JWT_SECRET (the local HS256 secret of
/dev/token), LOCAL_IDLE_TIMEOUT_S, LOCAL_MAX_CONNECTION_S, LOG_FORMAT (json
as --verbose), PORT.`;

/** A mistake in the command line; its message says which. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Reads the command line; `PORT` is the default of `--port`, `LOG_FORMAT=json`
 * turns `--verbose` on.
 */
export function parseOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): RealtimeLocalOptions {
  let values: {
    assembly?: string;
    app?: string;
    port?: string;
    help?: boolean;
    watch?: boolean;
    verbose?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        assembly: { type: 'string' },
        app: { type: 'string' },
        port: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        watch: { type: 'boolean' },
        verbose: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const help = values.help ?? false;
  if (!help && (values.assembly === undefined) === (values.app === undefined)) {
    throw new UsageError('give either --assembly <cdk.out> or --app "<command>"');
  }
  const rawPort = values.port ?? env.PORT ?? '0';
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError(`--port must be a port number (0 to 65535), got "${rawPort}"`);
  }
  return {
    ...(values.assembly === undefined ? {} : { assembly: resolve(values.assembly) }),
    ...(values.app === undefined ? {} : { app: values.app }),
    port,
    help,
    ...(values.watch ? { watch: true } : {}),
    ...(values.verbose || env.LOG_FORMAT === 'json' ? { verbose: true } : {}),
  };
}
