import { randomBytes } from 'node:crypto';
import { basename, dirname, extname } from 'node:path';

/** What the environment of one instance is built from. */
export interface EnvironmentSource {
  readonly name: string;
  readonly bundle: string;
  readonly handler: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly memoryMb?: number;
}

/** Lambda's default memory size, used when a definition gives none. */
export const DEFAULT_MEMORY_MB = 128;

/** Region used when the function's environment names none. */
export const DEFAULT_REGION = 'us-east-1';

/** NODE_OPTIONS flags a worker thread accepts in `execArgv`; per-process flags would throw. */
const WORKER_FLAGS = new Set(['--enable-source-maps']);

/**
 * The `process.env` of one instance: the function's variables plus the ones
 * the Lambda runtime defines (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
 */
export function lambdaEnvironment(
  source: EnvironmentSource,
  host: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const own = source.environment;
  const region = own.AWS_REGION ?? own.AWS_DEFAULT_REGION ?? DEFAULT_REGION;
  const moduleName = basename(source.bundle, extname(source.bundle));
  return {
    // The host's PATH and TMPDIR keep child processes and temp files working as on the host.
    ...(host.PATH === undefined ? {} : { PATH: host.PATH }),
    ...(host.TMPDIR === undefined ? {} : { TMPDIR: host.TMPDIR }),
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    // Dummy credentials so SDK clients sign requests to local endpoints instead of failing to resolve any.
    AWS_ACCESS_KEY_ID: 'AKIDLOCALSTACK',
    AWS_SECRET_ACCESS_KEY: 'local-stack-secret',
    AWS_SESSION_TOKEN: 'local-stack-session',
    ...own,
    // Reserved by Lambda: the function's own variables cannot override these.
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_LAMBDA_FUNCTION_NAME: source.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(source.memoryMb ?? DEFAULT_MEMORY_MB),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${source.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: logStreamName(),
    LAMBDA_TASK_ROOT: dirname(source.bundle),
    _HANDLER: `${moduleName}.${source.handler}`,
  };
}

/** The `execArgv` for an instance: the NODE_OPTIONS flags of `environment` that a worker thread honours. */
export function workerFlags(environment: Readonly<Record<string, string>>): string[] {
  const flags = (environment.NODE_OPTIONS ?? '').split(/\s+/);
  return flags.filter((flag) => WORKER_FLAGS.has(flag));
}

/** A stream name shaped like Lambda's: one per execution environment. */
function logStreamName(): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}
