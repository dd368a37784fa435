import {
  createRemoteJWKSet,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import type { TokenVerifier, VerifiedToken } from '../domain/ports.js';
import type { JwtConfig } from '../shared/config.js';
import { type SecretSource, SecretsManagerSecretSource } from './secret-source.js';

/** Why a token was refused; every one of them is `unauthorized` to the client. */
export type TokenRejectedCode =
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_invalid'
  | 'claim_invalid';

/** The token breaks a rule of PROTOCOL.md section 1: the caller's fault, never ours. */
export class TokenRejectedError extends Error {
  override readonly name = 'TokenRejectedError';

  constructor(
    readonly code: TokenRejectedCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The JWT settings cannot produce a verifier: a deployment fault found at construction. */
export class VerifierConfigError extends Error {
  override readonly name = 'VerifierConfigError';
  readonly code = 'verifier_misconfigured';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

// Pinned per mode: anything else, `none` included, is refused, and an HS256 token
// signed with a public key's bytes (algorithm confusion) never reaches JWKS mode.
const SECRET_ALGORITHMS: readonly string[] = ['HS256'];
const JWKS_ALGORITHMS: readonly string[] = ['RS256', 'ES256'];
/** Seconds of clock skew allowed on `exp` and `nbf` (PROTOCOL.md: at most 30). */
export const CLOCK_TOLERANCE_SECONDS = 30;
/** Longest accepted `sub` (PROTOCOL.md section 3). */
export const MAX_SUB_LENGTH = 128;

/** What a {@link JwtTokenVerifier} checks beyond the signature. */
export interface JwtTokenVerifierProps {
  /** Resolves the verification key for a token's header. */
  readonly key: JWTVerifyGetKey;
  readonly algorithms: readonly string[];
  /** @default - `iss` not checked */
  readonly issuer?: string;
  /** @default - `aud` not checked */
  readonly audience?: string;
  /**
   * The verification clock.
   * @default - the system clock
   */
  readonly now?: () => Date;
}

/** Verifies JWTs with `jose` by the rules of PROTOCOL.md section 1. */
export class JwtTokenVerifier implements TokenVerifier {
  readonly #key: JWTVerifyGetKey;
  readonly #options: Omit<JWTVerifyOptions, 'currentDate'>;
  readonly #now: (() => Date) | undefined;

  constructor(props: JwtTokenVerifierProps) {
    this.#key = props.key;
    this.#now = props.now;
    this.#options = {
      algorithms: [...props.algorithms],
      requiredClaims: ['exp', 'sub'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      ...(props.issuer === undefined ? {} : { issuer: props.issuer }),
      ...(props.audience === undefined ? {} : { audience: props.audience }),
    };
  }

  /** Resolves the token's identity claims; rejects with `TokenRejectedError` when it breaks a rule. */
  async verify(token: string): Promise<VerifiedToken> {
    let payload: JWTPayload;
    try {
      const options =
        this.#now === undefined ? this.#options : { ...this.#options, currentDate: this.#now() };
      ({ payload } = await jwtVerify(token, this.#key, options));
    } catch (error) {
      // Anything that is not the token's fault (JWKS unreachable, secret unreadable,
      // a bad key in the JWKS) goes through unchanged so it is never taken for a refusal.
      throw rejectionOf(error) ?? error;
    }
    return claimsOf(payload);
  }
}

/** Optional collaborators of {@link createTokenVerifier}. */
export interface TokenVerifierDeps {
  /**
   * Where the HS256 secret comes from when `config.secretArn` is set.
   * @default - Secrets Manager, read on first use
   */
  readonly secretSource?: SecretSource;
  /**
   * The verification clock.
   * @default - the system clock
   */
  readonly now?: () => Date;
}

/**
 * Builds the verifier the configuration asks for: JWKS (RS256/ES256) when
 * `jwksUrl` is set, else HS256 with `secret` or the secret at `secretArn`.
 */
export function createTokenVerifier(
  config: JwtConfig,
  deps: TokenVerifierDeps = {},
): TokenVerifier {
  const checks = {
    ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
    ...(config.audience === undefined ? {} : { audience: config.audience }),
    ...(deps.now === undefined ? {} : { now: deps.now }),
  };
  if (config.jwksUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(config.jwksUrl);
    } catch (cause) {
      throw new VerifierConfigError(`JWT_JWKS_URL is not a URL: ${config.jwksUrl}`, { cause });
    }
    // createRemoteJWKSet caches the keys for the life of the instance and refetches
    // on an unknown `kid` at most every 30 s, so warm invocations cost no request.
    return new JwtTokenVerifier({
      key: createRemoteJWKSet(url),
      algorithms: JWKS_ALGORITHMS,
      ...checks,
    });
  }
  if (config.secret !== undefined && config.secretArn !== undefined) {
    throw new VerifierConfigError('set JWT_SECRET or JWT_SECRET_ARN, not both');
  }
  if (config.secret !== undefined) {
    const key = new TextEncoder().encode(config.secret);
    return new JwtTokenVerifier({ key: async () => key, algorithms: SECRET_ALGORITHMS, ...checks });
  }
  if (config.secretArn !== undefined) {
    const source =
      deps.secretSource ?? new SecretsManagerSecretSource({ secretId: config.secretArn });
    const encoder = new TextEncoder();
    // Resolved by jose after the alg check, so a token with a refused alg never
    // costs a Secrets Manager read.
    const key = async () => encoder.encode(await source.get());
    return new JwtTokenVerifier({ key, algorithms: SECRET_ALGORITHMS, ...checks });
  }
  throw new VerifierConfigError(
    'no way to verify tokens: set JWT_JWKS_URL, JWT_SECRET_ARN or (local stack only) JWT_SECRET',
  );
}

function claimsOf(payload: JWTPayload): VerifiedToken {
  const { sub, exp, name, rooms } = payload;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUB_LENGTH) {
    throw new TokenRejectedError(
      'claim_invalid',
      `"sub" must be a string of 1 to ${MAX_SUB_LENGTH} characters`,
    );
  }
  if (typeof exp !== 'number') {
    throw new TokenRejectedError('claim_invalid', '"exp" must be a number');
  }
  return {
    sub,
    name: typeof name === 'string' && name.length > 0 ? name : sub,
    rooms: roomsOf(rooms),
    exp,
  };
}

function roomsOf(claim: unknown): readonly string[] | null {
  if (claim === undefined) return null;
  if (Array.isArray(claim))
    return claim.filter((entry): entry is string => typeof entry === 'string');
  // A `rooms` claim that is present but not an array (a string, null, an object)
  // is an issuer bug. Reading it as "absent" would turn an intended restriction
  // into access to every room, so it allows none; the connection itself stands
  // because every other claim checked out.
  return [];
}

const REFUSED_BY_JOSE: Readonly<Record<string, TokenRejectedCode>> = {
  ERR_JWT_EXPIRED: 'token_expired',
  ERR_JWT_CLAIM_VALIDATION_FAILED: 'claim_invalid',
  ERR_JOSE_ALG_NOT_ALLOWED: 'token_invalid',
  ERR_JWS_INVALID: 'token_invalid',
  ERR_JWT_INVALID: 'token_invalid',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'token_invalid',
  // The token names a key the JWKS does not hold (or, lacking `kid`, several).
  ERR_JWKS_NO_MATCHING_KEY: 'token_invalid',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'token_invalid',
  // Reached only from the token's header (e.g. an unknown `crit` extension):
  // algorithms are pinned before any key is looked up.
  ERR_JOSE_NOT_SUPPORTED: 'token_invalid',
};

function rejectionOf(error: unknown): TokenRejectedError | undefined {
  if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'string') {
    return undefined;
  }
  if (!Object.hasOwn(REFUSED_BY_JOSE, error.code)) return undefined;
  let code = REFUSED_BY_JOSE[error.code] ?? 'token_invalid';
  let message = error.message;
  if (error.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    const { claim, reason } = error as { claim?: unknown; reason?: unknown };
    if (claim === 'nbf' && reason === 'check_failed') code = 'token_not_yet_valid';
    message = `claim "${String(claim)}" ${String(reason)}`;
  }
  return new TokenRejectedError(code, message, { cause: error });
}
