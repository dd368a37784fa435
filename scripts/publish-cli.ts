import { parseArgs } from 'node:util';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { LOCAL_REGION } from '../local/assembly/stack-model.js';
import { findRunningStack, type RunningStack } from '../local/dev/running-stack.js';
import type { PublishInput } from '../protocol/publish.js';
import { createPublisher, PublishError } from '../publish/index.js';

/**
 * The local publish function's name for the Invoke API: its construct id,
 * `handlerId('publish')` in lib/realtime-stack.ts (restated here because
 * loading the CDK library would double the command's start-up time; a test
 * holds the two equal).
 */
export const LOCAL_PUBLISH_FUNCTION = 'PublishHandler';

export const USAGE = `Usage: npm run publish -- (--room ROOM | --user USER_ID) --data JSON
                            [--from-id ID --from-name NAME] [--function NAME]
       npm run publish -- --help

Targets the local stack that npm start runs in this checkout (or the one at
http://127.0.0.1:$PORT when PORT is set) unless --function names a deployed
publish function (its PublishFunctionName output), reached with the AWS
credentials and region of the environment.
Prints the result as JSON. Exits 1 when the input is refused, 2 on a usage
error, 3 when the function failed or could not be invoked.

  --room ROOM        publish to the members of this room
  --user USER_ID     publish to this user's connections
  --data JSON        the message's data, a JSON value (quote a string: '"hi"')
  --from-id ID       the sender's user id (default: --from-name)
  --from-name NAME   the sender's display name (default: --from-id)
  --function NAME    a deployed publish function (its PublishFunctionName output)
  -h, --help         this text, exit 0`;

/**
 * Whether the command line asks for the usage, wherever `--help` or `-h`
 * stands and whatever else is wrong with it.
 */
export function asksForHelp(argv: readonly string[]): boolean {
  const { values } = parseArgs({
    args: [...argv],
    options: { help: { type: 'boolean', short: 'h' } },
    strict: false,
    allowPositionals: true,
  });
  return values.help === true;
}

/** What to publish and where. */
export interface PublishPlan {
  /** As given: the function validates it, so the command never refuses what it would take. */
  readonly input: Record<string, unknown>;
  readonly functionName: string;
  /** The local stack's endpoint; absent for a deployed function. */
  readonly endpoint?: string;
}

/** A command line that cannot be run, and why. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the command line; throws a {@link UsageError} when it cannot be run. */
export function planPublish(
  argv: readonly string[],
  env: Env,
  running: () => RunningStack | undefined = findRunningStack,
): PublishPlan {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        room: { type: 'string' },
        user: { type: 'string' },
        data: { type: 'string' },
        'from-id': { type: 'string' },
        'from-name': { type: 'string' },
        function: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.data === undefined) throw new UsageError('--data is required (a JSON value).');
  let data: unknown;
  try {
    data = JSON.parse(values.data);
  } catch {
    throw new UsageError(`--data is not JSON: ${values.data} (quote a string: '"hi"').`);
  }
  const fromId = values['from-id'];
  const fromName = values['from-name'];
  const input = {
    ...(values.room === undefined ? {} : { room: values.room }),
    ...(values.user === undefined ? {} : { user: values.user }),
    data,
    ...(fromId === undefined && fromName === undefined
      ? {}
      : { from: { userId: fromId ?? fromName, name: fromName ?? fromId } }),
  };
  if (values.function !== undefined) return { input, functionName: values.function };
  if (env.PORT === undefined || env.PORT === '') {
    const stack = running();
    if (stack === undefined) {
      throw new UsageError(
        'No local stack is running in this checkout: start one with npm start, set PORT to the port of one, or name a deployed function with --function.',
      );
    }
    return { input, functionName: LOCAL_PUBLISH_FUNCTION, endpoint: stack.httpUrl };
  }
  const port = Number(env.PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) {
    throw new UsageError(`PORT must be the local stack's port (1 to 65535), got "${env.PORT}".`);
  }
  return { input, functionName: LOCAL_PUBLISH_FUNCTION, endpoint: `http://127.0.0.1:${port}` };
}

/** Where the command writes. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** Runs `npm run publish`; resolves the exit code. */
export async function runPublish(
  argv: readonly string[],
  env: Env,
  output: Output,
): Promise<number> {
  if (asksForHelp(argv)) {
    output.out(USAGE);
    return 0;
  }
  let plan: PublishPlan;
  try {
    plan = planPublish(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    output.err(`${error.message}\n\n${USAGE}`);
    return 2;
  }
  const client =
    plan.endpoint === undefined
      ? new LambdaClient({})
      : new LambdaClient({
          endpoint: plan.endpoint,
          region: LOCAL_REGION,
          // The local stack enforces no IAM; real credentials have no business there.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        });
  const publisher = createPublisher({ functionName: plan.functionName, client });
  try {
    const result = await publisher.publish(plan.input as unknown as PublishInput);
    output.out(JSON.stringify(result));
    return 0;
  } catch (error) {
    if (error instanceof PublishError) {
      output.out(
        JSON.stringify({ ok: false, error: { code: error.code, message: error.message } }),
      );
      return 1;
    }
    output.err(
      `publish failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
    return 3;
  } finally {
    client.destroy();
  }
}
