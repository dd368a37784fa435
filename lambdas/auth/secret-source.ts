import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** A secret's text, fetched on first use and reused. */
export interface SecretSource {
  /** Resolves the secret; rejects with a `SecretUnavailableError` when it cannot be read. */
  get(): Promise<string>;
}

/** Why a secret could not be used. */
export type SecretUnavailableCode = 'secret_fetch_failed' | 'secret_not_text' | 'secret_empty';

/** The secret could not be read, or holds nothing usable: a deployment fault, never a bad token. */
export class SecretUnavailableError extends Error {
  override readonly name = 'SecretUnavailableError';

  constructor(
    readonly code: SecretUnavailableCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Settings of a {@link SecretsManagerSecretSource}. */
export interface SecretsManagerSecretSourceProps {
  /** ARN of the secret (its name works too). */
  readonly secretId: string;
  /**
   * The client to send with.
   * @default - one client per process, built on first use
   */
  readonly client?: SecretsManagerClient;
  /**
   * How long a fetched value is reused before it is read again, in milliseconds.
   * @default - 15 minutes
   */
  readonly maxAgeMs?: number;
  /**
   * Milliseconds since the epoch.
   * @default - Date.now
   */
  readonly clock?: () => number;
}

type SecretsManagerSdk = typeof import('@aws-sdk/client-secrets-manager');

const DEFAULT_MAX_AGE_MS = 15 * 60_000;

// Loaded on first use only: evaluating the SDK costs ~50-65 ms of cold start,
// which JWKS-mode authorizers never need to pay.
let sdk: Promise<SecretsManagerSdk> | undefined;
let sharedClient: SecretsManagerClient | undefined;

function loadSdk(): Promise<SecretsManagerSdk> {
  sdk ??= import('@aws-sdk/client-secrets-manager');
  return sdk;
}

/** Reads a text secret from Secrets Manager, caching it for `maxAgeMs`. */
export class SecretsManagerSecretSource implements SecretSource {
  readonly #secretId: string;
  readonly #client: SecretsManagerClient | undefined;
  readonly #maxAgeMs: number;
  readonly #clock: () => number;
  #cached: { readonly value: string; readonly fetchedAt: number } | undefined;
  #pending: Promise<string> | undefined;

  constructor(props: SecretsManagerSecretSourceProps) {
    this.#secretId = props.secretId;
    this.#client = props.client;
    this.#maxAgeMs = props.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.#clock = props.clock ?? Date.now;
  }

  /** Resolves the cached value, reading the secret when there is none or it is older than `maxAgeMs`. */
  async get(): Promise<string> {
    const cached = this.#cached;
    if (cached !== undefined && this.#clock() - cached.fetchedAt < this.#maxAgeMs) {
      return cached.value;
    }
    // Concurrent cold invocations share one read instead of each sending their own.
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    try {
      return await this.#pending;
    } catch (error) {
      // A value read minutes ago is still the best answer while Secrets Manager is
      // unreachable; refusing every connect would turn a blip into an outage.
      if (cached !== undefined && isFetchFailure(error)) return cached.value;
      throw error;
    }
  }

  async #fetch(): Promise<string> {
    const sdk = await loadSdk();
    const client = this.#client ?? defaultClient(sdk);
    let value: string | undefined;
    try {
      const output = await client.send(new sdk.GetSecretValueCommand({ SecretId: this.#secretId }));
      value = output.SecretString;
    } catch (cause) {
      throw new SecretUnavailableError(
        'secret_fetch_failed',
        `could not read secret ${this.#secretId}`,
        { cause },
      );
    }
    if (value === undefined) {
      throw new SecretUnavailableError(
        'secret_not_text',
        `secret ${this.#secretId} has no SecretString (binary secrets are not supported)`,
      );
    }
    if (value.length === 0) {
      throw new SecretUnavailableError('secret_empty', `secret ${this.#secretId} is empty`);
    }
    this.#cached = { value, fetchedAt: this.#clock() };
    return value;
  }
}

function defaultClient(sdk: SecretsManagerSdk): SecretsManagerClient {
  if (sharedClient === undefined) sharedClient = new sdk.SecretsManagerClient({});
  return sharedClient;
}

function isFetchFailure(error: unknown): boolean {
  return error instanceof SecretUnavailableError && error.code === 'secret_fetch_failed';
}
