import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  SecretsManagerSecretSource,
  SecretUnavailableError,
} from '../../lambdas/auth/secret-source.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt-secret-AbCdEf';
const secretsManager = mockClient(SecretsManagerClient);

function client(): SecretsManagerClient {
  return new SecretsManagerClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

async function unavailable(promise: Promise<unknown>): Promise<SecretUnavailableError> {
  const error: unknown = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SecretUnavailableError);
  return error as SecretUnavailableError;
}

describe('SecretsManagerSecretSource', () => {
  beforeEach(() => {
    secretsManager.reset();
  });

  afterAll(() => {
    secretsManager.restore();
  });

  it('reads the secret by its ARN once and reuses the value', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 's3cret' });
    const source = new SecretsManagerSecretSource({ secretId: ARN, client: client() });

    await expect(source.get()).resolves.toBe('s3cret');
    await expect(source.get()).resolves.toBe('s3cret');

    const calls = secretsManager.commandCalls(GetSecretValueCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({ SecretId: ARN });
  });

  it('shares one read between concurrent first gets', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 's3cret' });
    const source = new SecretsManagerSecretSource({ secretId: ARN, client: client() });

    const values = await Promise.all([source.get(), source.get(), source.get()]);

    expect(values).toEqual(['s3cret', 's3cret', 's3cret']);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('reads the secret again once the cached value is older than maxAgeMs', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: 'old' })
      .resolves({ SecretString: 'rotated' });
    let now = 0;
    const source = new SecretsManagerSecretSource({
      secretId: ARN,
      client: client(),
      maxAgeMs: 60_000,
      clock: () => now,
    });

    await expect(source.get()).resolves.toBe('old');
    now = 59_999;
    await expect(source.get()).resolves.toBe('old');
    now = 60_000;
    await expect(source.get()).resolves.toBe('rotated');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('keeps serving the last value when a refresh fails', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: 'old' })
      .rejects(new Error('throttled'));
    let now = 0;
    const source = new SecretsManagerSecretSource({
      secretId: ARN,
      client: client(),
      maxAgeMs: 1_000,
      clock: () => now,
    });

    await expect(source.get()).resolves.toBe('old');
    now = 5_000;
    await expect(source.get()).resolves.toBe('old');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('reports a failed read with its cause and retries on the next get', async () => {
    const denied = new Error('AccessDeniedException');
    secretsManager
      .on(GetSecretValueCommand)
      .rejectsOnce(denied)
      .resolves({ SecretString: 's3cret' });
    const source = new SecretsManagerSecretSource({ secretId: ARN, client: client() });

    const error = await unavailable(source.get());
    expect(error.name).toBe('SecretUnavailableError');
    expect(error.code).toBe('secret_fetch_failed');
    expect(error.cause).toBe(denied);
    await expect(source.get()).resolves.toBe('s3cret');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('refuses a secret whose SecretString is empty', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '' });
    const source = new SecretsManagerSecretSource({ secretId: ARN, client: client() });

    expect((await unavailable(source.get())).code).toBe('secret_empty');
  });

  it('refuses a secret with no SecretString', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolves({ SecretBinary: new TextEncoder().encode('s3cret') });
    const source = new SecretsManagerSecretSource({ secretId: ARN, client: client() });

    expect((await unavailable(source.get())).code).toBe('secret_not_text');
  });

  it('builds its own client on first use when none is given', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 's3cret' });
    const source = new SecretsManagerSecretSource({ secretId: ARN });

    await expect(source.get()).resolves.toBe('s3cret');
    expect(secretsManager.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: ARN,
    });
  });
});
