/**
 * Runtime configuration of the Lambda functions, read from their environment.
 * Names follow PROTOCOL.md section 7; the stack and the local stack set them.
 */

/** How tokens are verified. Exactly one of `secret`, `secretArn` or `jwksUrl` applies. */
export interface JwtConfig {
  /** HS256 secret in plain text: only the local stack sets this. */
  readonly secret?: string;
  /** Secrets Manager secret holding the HS256 secret (deployed). */
  readonly secretArn?: string;
  /** JWKS for RS256/ES256; takes precedence over any secret. */
  readonly jwksUrl?: string;
  readonly issuer?: string;
  readonly audience?: string;
}

/** Limits of PROTOCOL.md section 7. */
export interface Limits {
  readonly maxConnectionsPerUser: number;
  /** Rooms one connection may be in at once; `join` beyond it is `forbidden`. */
  readonly maxRoomsPerConnection: number;
  readonly maxDataBytes: number;
  readonly rateLimitPerSecond: number;
  readonly historyTtlHours: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxConnectionsPerUser: 10,
  maxRoomsPerConnection: 100,
  maxDataBytes: 16_384,
  rateLimitPerSecond: 10,
  historyTtlHours: 24,
};

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the JWT settings; empty values count as unset. */
export function readJwtConfig(env: Env = process.env): JwtConfig {
  return {
    ...optional('secret', env.JWT_SECRET),
    ...optional('secretArn', env.JWT_SECRET_ARN),
    ...optional('jwksUrl', env.JWT_JWKS_URL),
    ...optional('issuer', env.JWT_ISSUER),
    ...optional('audience', env.JWT_AUDIENCE),
  };
}

/** Reads the limits, refusing values that are not positive numbers. */
export function readLimits(env: Env = process.env): Limits {
  return {
    maxConnectionsPerUser: positive(
      env,
      'MAX_CONNECTIONS_PER_USER',
      DEFAULT_LIMITS.maxConnectionsPerUser,
    ),
    maxRoomsPerConnection: positive(
      env,
      'MAX_ROOMS_PER_CONNECTION',
      DEFAULT_LIMITS.maxRoomsPerConnection,
    ),
    maxDataBytes: positive(env, 'MAX_DATA_BYTES', DEFAULT_LIMITS.maxDataBytes),
    rateLimitPerSecond: positive(env, 'RATE_LIMIT_PER_SECOND', DEFAULT_LIMITS.rateLimitPerSecond),
    historyTtlHours: positive(env, 'HISTORY_TTL_HOURS', DEFAULT_LIMITS.historyTtlHours),
  };
}

/**
 * Connections one function posts to in a fan-out before the rest is split
 * across the fan-out workers. At 64 posts in flight per function, a share of
 * 2,500 is about 40 rounds of posts (well under a second in AWS), and a room
 * of 10,000 keeps 256 posts in flight, not 1,280: the account-wide API
 * Gateway request rate is shared by every fan-out. Measured locally, shares
 * of 2,500 beat shares of 500 at 5,000 members (bench, 2026-11-22).
 */
export const DEFAULT_FAN_OUT_CHUNK_SIZE = 2_500;

/** Reads FAN_OUT_CHUNK_SIZE, a whole number of connections. */
export function readFanOutChunkSize(env: Env = process.env): number {
  const size = positive(env, 'FAN_OUT_CHUNK_SIZE', DEFAULT_FAN_OUT_CHUNK_SIZE);
  if (!Number.isSafeInteger(size)) {
    throw new Error(`FAN_OUT_CHUNK_SIZE must be a whole number, got "${env.FAN_OUT_CHUNK_SIZE}"`);
  }
  return size;
}

/**
 * How long one server hook call may take before its request is refused with
 * `internal` (lambdas/hooks/types.ts). Three seconds leaves a join or send
 * most of the 15 s function timeout for its own writes and their retries.
 */
export const DEFAULT_HOOK_TIMEOUT_MS = 3_000;

/** Reads HOOK_TIMEOUT_MS, a whole number of milliseconds. */
export function readHookTimeoutMs(env: Env = process.env): number {
  const ms = positive(env, 'HOOK_TIMEOUT_MS', DEFAULT_HOOK_TIMEOUT_MS);
  if (!Number.isSafeInteger(ms)) {
    throw new Error(`HOOK_TIMEOUT_MS must be a whole number, got "${env.HOOK_TIMEOUT_MS}"`);
  }
  return ms;
}

/** Browser origins allowed to connect; `undefined` allows any. */
export function readAllowedOrigins(env: Env = process.env): readonly string[] | undefined {
  const list = (env.ALLOWED_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin.length > 0);
  return list.length > 0 ? list : undefined;
}

/** A required variable; its absence is a deployment defect, so it throws at init. */
export function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

function optional<K extends string>(key: K, value: string | undefined) {
  return value === undefined || value === '' ? {} : ({ [key]: value } as Record<K, string>);
}

function positive(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${name} must be a positive number, got "${raw}"`);
  }
  return value;
}
