import { beforeAll, describe, expect, inject, it } from 'vitest';
import { STACK_ID } from '../../../lib/realtime-app.js';
import { resolveString } from '../../../local/assembly/intrinsics.js';
import { readStackModel, type StackModel } from '../../../local/assembly/stack-model.js';
import { stackSecrets } from '../../../local/secrets/stack-secrets.js';

let model: StackModel;

beforeAll(() => {
  model = readStackModel(inject('cdkOutdir'), STACK_ID);
});

/** The functions that name a secret in JWT_SECRET_ARN. */
const verifiers = () =>
  [...model.functions.values()].filter((fn) => fn.environment.JWT_SECRET_ARN !== undefined);

describe('the secrets of the local Secrets Manager', () => {
  it('hold the local secret at the ARN every verifying function’s JWT_SECRET_ARN resolves to', () => {
    const [secretId] = model.secrets;
    const arn = `arn:aws:secretsmanager:us-east-1:000000000000:secret:${secretId}`;

    expect(stackSecrets(model, 'local-secret')).toEqual([
      { arn, name: secretId, value: 'local-secret' },
    ]);
    expect(verifiers().map((fn) => fn.name)).toContain('AuthorizerHandler');
    for (const fn of verifiers()) {
      expect(resolveString(fn.environment.JWT_SECRET_ARN, model.resolution), fn.name).toBe(arn);
    }
  });

  it('hold a secret of another stack that a JWT_SECRET_ARN names, by its name without the suffix', () => {
    const imported = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:realtime/jwt-AbCdEf';
    const functions = new Map(
      [...model.functions].map(([id, fn]) => [
        id,
        fn.environment.JWT_SECRET_ARN === undefined
          ? fn
          : { ...fn, environment: { ...fn.environment, JWT_SECRET_ARN: imported } },
      ]),
    );

    const secrets = stackSecrets({ ...model, secrets: [], functions }, 'local-secret');

    expect(secrets).toEqual([{ arn: imported, name: 'realtime/jwt', value: 'local-secret' }]);
  });
});
