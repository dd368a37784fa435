import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { startDynalite } from './dynalite-engine.js';
import { startDynamoDbLocal } from './dynamodb-local-engine.js';

export { JavaUnavailableError, javaVersion, MIN_JAVA_VERSION } from './java.js';
export { DynamoStartError } from './start-error.js';

/** The local DynamoDB implementations the stack can run on. */
export type EngineName = 'dynalite' | 'dynamodb-local';

/** Every {@link EngineName}, default first. */
export const ENGINE_NAMES: readonly EngineName[] = ['dynalite', 'dynamodb-local'];

/** A running local DynamoDB. */
export interface DynamoEngine {
  /** Which implementation serves. */
  readonly name: EngineName;
  /** Where to send requests: `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Stops serving and frees the port (and the data directory); safe to call twice. */
  stop(): Promise<void>;
}

/** Settings of {@link startDynamo}. */
export interface StartDynamoOptions {
  /**
   * Which implementation to run.
   * @default 'dynalite'
   */
  readonly engine?: EngineName;
  /**
   * Directory that keeps the data across restarts; created if missing.
   * @default - in memory, gone on stop
   */
  readonly dir?: string;
  /**
   * Port to serve on.
   * @default 0 - a free port
   */
  readonly port?: number;
  /**
   * The Java executable, for 'dynamodb-local'.
   * @default 'java' (from PATH)
   */
  readonly java?: string;
  /**
   * Milliseconds DynamoDB Local may take to answer its first request.
   * @default 60_000
   */
  readonly readyTimeoutMs?: number;
}

/**
 * Starts a local DynamoDB and resolves once it serves on 127.0.0.1.
 * Rejects with a `JavaUnavailableError` (before starting anything) when
 * 'dynamodb-local' is asked for without Java 17+, and with a `DynamoStartError`
 * when the engine does not come up.
 */
export async function startDynamo(options: StartDynamoOptions = {}): Promise<DynamoEngine> {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`port must be an integer from 0 to 65535, got ${port}`);
  }
  // Absolute, because DynamoDB Local runs with its own working directory.
  const dir = options.dir === undefined ? undefined : resolve(options.dir);
  if (dir !== undefined) await mkdir(dir, { recursive: true });
  const located = dir === undefined ? {} : { dir };
  switch (options.engine ?? 'dynalite') {
    case 'dynalite':
      return startDynalite({ ...located, port });
    case 'dynamodb-local':
      return startDynamoDbLocal({
        ...located,
        port,
        ...(options.java === undefined ? {} : { java: options.java }),
        ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
      });
  }
}

/** The local DynamoDB settings an environment asks for. */
export interface EngineSelection {
  readonly engine: EngineName;
  /** Absent: in memory. */
  readonly dir?: string;
}

/** An environment variable of the local stack holds a value it cannot use. */
export class EngineConfigError extends Error {
  override readonly name = 'EngineConfigError';
  readonly code = 'engine_config_invalid';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Reads `DYNAMODB_ENGINE` ('dynalite' when unset or empty, or 'dynamodb-local')
 * and `DYNAMODB_DIR` (in memory when unset or empty).
 */
export function engineFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): EngineSelection {
  const requested = env.DYNAMODB_ENGINE?.trim() || 'dynalite';
  const engine = ENGINE_NAMES.find((name) => name === requested);
  if (engine === undefined) {
    throw new EngineConfigError(
      `DYNAMODB_ENGINE must be one of ${ENGINE_NAMES.join(', ')}; got '${requested}'`,
    );
  }
  const dir = env.DYNAMODB_DIR?.trim();
  return dir ? { engine, dir } : { engine };
}
