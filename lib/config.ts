import type { Node } from 'constructs';
import * as rules from './setting-rules.js';

/**
 * Deployment configuration of the stack, read from CDK context first and then
 * the environment, with the names of PROTOCOL.md section 7.
 */

/** Where the keys that verify tokens come from. */
export type TokenKeys =
  /** RS256/ES256 keys published at a JWKS URL: no secret at all. */
  | { readonly kind: 'jwks'; readonly jwksUrl: string }
  /** An existing Secrets Manager secret holding the HS256 secret. */
  | { readonly kind: 'imported-secret'; readonly secretArn: string }
  /** A secret the stack creates with a generated value. */
  | { readonly kind: 'generated-secret' };

/**
 * Limits of PROTOCOL.md section 7. Unset ones are left to the functions'
 * own defaults, so the defaults live in one place.
 */
export interface LimitSettings {
  readonly maxConnectionsPerUser?: number;
  readonly maxRoomsPerConnection?: number;
  readonly maxDataBytes?: number;
  readonly rateLimitPerSecond?: number;
  readonly historyTtlHours?: number;
}

/** The deployment stages; each is its own stack, so both can live in one account. */
export const DEPLOYMENT_STAGES = ['dev', 'prod'] as const;

/** A deployment stage: `prod` keeps its data when the stack goes, `dev` does not. */
export type DeploymentStage = (typeof DEPLOYMENT_STAGES)[number];

/** Validated configuration of a `RealtimeStack`. */
export interface RealtimeConfig {
  /** The deployment stage (STAGE). */
  readonly stage: DeploymentStage;
  /** The API Gateway stage (STAGE_NAME), the last segment of the URLs. */
  readonly stageName: string;
  readonly stageThrottle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly tokenKeys: TokenKeys;
  readonly jwtIssuer?: string;
  readonly jwtAudience?: string;
  readonly allowedOrigins?: readonly string[];
  readonly limits: LimitSettings;
  /**
   * Connections one function posts to before a fan-out is split across the
   * fan-out workers (FAN_OUT_CHUNK_SIZE); the functions' default when unset.
   */
  readonly fanOutChunkSize?: number;
  /** Where alarm notifications go; none when unset. */
  readonly alarmEmail?: string;
  /**
   * Deploys the benchmark's reference handler (a whole-table Scan per message)
   * as the `refsend` route. For `npm run bench` only: never in production.
   */
  readonly referenceHandler: boolean;
}

/** Why the configuration was refused. */
export type ConfigErrorCode = 'invalid_value' | 'plaintext_secret';

/** A configuration value that cannot be deployed; `setting` names it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly code: ConfigErrorCode,
    readonly setting: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Variables read from the environment when the context does not set them. */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

/**
 * Deployment stage when STAGE is unset: the one that keeps its data, so a
 * deploy that forgets the setting never creates a stack whose `cdk destroy`
 * deletes messages.
 */
export const DEFAULT_STAGE: DeploymentStage = 'prod';
/** API Gateway stage name when STAGE_NAME is unset: the deployment stage's. */
export const DEFAULT_STAGE_NAME: string = DEFAULT_STAGE;
/** Steady-state requests a second of the stage when STAGE_RATE_LIMIT is unset. */
export const DEFAULT_STAGE_RATE_LIMIT = 500;
/** Burst of the stage when STAGE_BURST_LIMIT is unset. */
export const DEFAULT_STAGE_BURST_LIMIT = 1000;

/**
 * Reads and validates the configuration: each name from the context of `node`
 * (`cdk synth -c NAME=value` or cdk.json), else from `env`. Empty values count
 * as unset. Throws a `ConfigError` naming the setting for any invalid value.
 */
export function readConfig(node: Node, env: ConfigEnv = process.env): RealtimeConfig {
  const read = (name: string): string | undefined => {
    const fromContext: unknown = node.tryGetContext(name);
    const value = fromContext ?? env[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new ConfigError('invalid_value', name, `${name} must be a string or a number`);
    }
    const text = String(value).trim();
    return text === '' ? undefined : text;
  };

  if (read('JWT_SECRET') !== undefined) {
    throw new ConfigError(
      'plaintext_secret',
      'JWT_SECRET',
      'JWT_SECRET must not be given to the deployed stack: it would be stored in plain text ' +
        'in the template and the functions. Store the HS256 secret in AWS Secrets Manager and ' +
        'pass its ARN as JWT_SECRET_ARN (or leave both unset to have the stack generate one).',
    );
  }

  const jwksUrl = optional(read, 'JWT_JWKS_URL', httpsUrl);
  // A secret pasted here by mistake must not end up in an error message.
  const secretArn = optional(read, 'JWT_SECRET_ARN', secretsManagerArn, { echo: false });
  const tokenKeys: TokenKeys =
    jwksUrl !== undefined
      ? { kind: 'jwks', jwksUrl }
      : secretArn !== undefined
        ? { kind: 'imported-secret', secretArn }
        : { kind: 'generated-secret' };

  const stage = optional(read, 'STAGE', deploymentStage) ?? DEFAULT_STAGE;
  return {
    stage,
    stageName: optional(read, 'STAGE_NAME', stageName) ?? stage,
    stageThrottle: {
      rateLimit: optional(read, 'STAGE_RATE_LIMIT', positiveNumber) ?? DEFAULT_STAGE_RATE_LIMIT,
      burstLimit: optional(read, 'STAGE_BURST_LIMIT', positiveInteger) ?? DEFAULT_STAGE_BURST_LIMIT,
    },
    tokenKeys,
    ...defined('jwtIssuer', read('JWT_ISSUER')),
    ...defined('jwtAudience', read('JWT_AUDIENCE')),
    ...defined('allowedOrigins', optional(read, 'ALLOWED_ORIGINS', origins)),
    limits: {
      ...defined(
        'maxConnectionsPerUser',
        optional(read, 'MAX_CONNECTIONS_PER_USER', positiveInteger),
      ),
      ...defined(
        'maxRoomsPerConnection',
        optional(read, 'MAX_ROOMS_PER_CONNECTION', positiveInteger),
      ),
      ...defined('maxDataBytes', optional(read, 'MAX_DATA_BYTES', positiveInteger)),
      ...defined('rateLimitPerSecond', optional(read, 'RATE_LIMIT_PER_SECOND', positiveNumber)),
      ...defined('historyTtlHours', optional(read, 'HISTORY_TTL_HOURS', positiveNumber)),
    },
    ...defined('alarmEmail', optional(read, 'ALARM_EMAIL', emailAddress)),
    ...defined('fanOutChunkSize', optional(read, 'FAN_OUT_CHUNK_SIZE', positiveInteger)),
    referenceHandler: optional(read, 'REFERENCE_HANDLER', flag) ?? false,
  };
}

/** Parses a value or returns the reason it is invalid. */
type Parser<T> = (raw: string) => T | { readonly invalid: string };

function optional<T>(
  read: (name: string) => string | undefined,
  name: string,
  parse: Parser<T>,
  { echo = true }: { readonly echo?: boolean } = {},
): T | undefined {
  const raw = read(name);
  if (raw === undefined) return undefined;
  const parsed = parse(raw);
  if (typeof parsed === 'object' && parsed !== null && 'invalid' in parsed) {
    const got = echo ? `, got "${raw}"` : '';
    throw new ConfigError('invalid_value', name, `${name} ${parsed.invalid}${got}`);
  }
  return parsed as T;
}

function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** A parser of a number that `rule` accepts. */
function numberBy(rule: (value: number) => rules.Refusal): Parser<number> {
  return (raw) => {
    const value = Number(raw);
    const refusal = rule(value);
    return refusal === undefined ? value : { invalid: refusal };
  };
}

/** A parser of text that `rule` accepts as it is. */
function textBy(rule: (value: string) => rules.Refusal): Parser<string> {
  return (raw) => {
    const refusal = rule(raw);
    return refusal === undefined ? raw : { invalid: refusal };
  };
}

const positiveNumber = numberBy(rules.positiveNumber);
const positiveInteger = numberBy(rules.positiveInteger);
const stageName = textBy(rules.stageName);
const emailAddress = textBy(rules.emailAddress);
const httpsUrl = textBy(rules.httpsUrl);
const secretsManagerArn = textBy(rules.secretsManagerArn);

const flag: Parser<boolean> = (raw) =>
  raw === 'true' ? true : raw === 'false' ? false : { invalid: 'must be true or false' };

const deploymentStage: Parser<DeploymentStage> = (raw) =>
  (DEPLOYMENT_STAGES as readonly string[]).includes(raw)
    ? (raw as DeploymentStage)
    : { invalid: `must be one of ${DEPLOYMENT_STAGES.join(', ')}` };

const origins: Parser<readonly string[]> = (raw) => {
  const list = raw
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin.length > 0);
  const refusal = rules.origins(list);
  return refusal === undefined ? list : { invalid: refusal };
};
