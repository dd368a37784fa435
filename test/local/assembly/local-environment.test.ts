import { beforeAll, describe, expect, inject, it } from 'vitest';
import { STACK_ID } from '../../../lib/realtime-app.js';
import {
  type FunctionModel,
  readStackModel,
  type StackModel,
} from '../../../local/assembly/stack-model.js';
import { localEnvironment } from '../../../local/local-stack.js';

let model: StackModel;

beforeAll(() => {
  model = readStackModel(inject('cdkOutdir'), STACK_ID);
});

const LOCAL = {
  httpUrl: 'http://127.0.0.1:4510',
  secret: 'local-test-secret',
  dynamo: 'http://127.0.0.1:4520',
};

function fn(name: string): FunctionModel {
  const found = [...model.functions.values()].find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no function ${name}`);
  return found;
}

function environmentOf(name: string): Record<string, string> {
  return localEnvironment(model, fn(name).environment, LOCAL);
}

describe('localEnvironment', () => {
  it('points CALLBACK_URL at the local management API of the stage', () => {
    expect(fn('SendHandler').environment).toHaveProperty('CALLBACK_URL');

    expect(environmentOf('SendHandler').CALLBACK_URL).toBe('http://127.0.0.1:4510/prod');
  });

  it("keeps JWT_SECRET_ARN, resolved to the secret's local ARN, and gives no JWT_SECRET", () => {
    const [secretId] = model.secrets;

    const environment = environmentOf('AuthorizerHandler');

    expect(environment.JWT_SECRET_ARN).toBe(
      `arn:aws:secretsmanager:us-east-1:000000000000:secret:${secretId}`,
    );
    expect(environment).not.toHaveProperty('JWT_SECRET');
  });

  it("sets AWS_ENDPOINT_URL_SECRETS_MANAGER to the local stack's Secrets Manager", () => {
    expect(environmentOf('AuthorizerHandler').AWS_ENDPOINT_URL_SECRETS_MANAGER).toBe(
      'http://127.0.0.1:4510',
    );
  });

  it('replaces JWT_JWKS_URL by the local JWT_SECRET, which signs the tokens of /dev/token', () => {
    const environment = localEnvironment(
      model,
      { JWT_JWKS_URL: 'https://issuer.example/.well-known/jwks.json', JWT_ISSUER: 'issuer' },
      LOCAL,
    );

    expect(environment).not.toHaveProperty('JWT_JWKS_URL');
    expect(environment).toMatchObject({ JWT_SECRET: 'local-test-secret', JWT_ISSUER: 'issuer' });
  });

  it('sets AWS_ENDPOINT_URL_DYNAMODB to the local DynamoDB', () => {
    expect(environmentOf('JoinHandler').AWS_ENDPOINT_URL_DYNAMODB).toBe('http://127.0.0.1:4520');
  });

  it("sets AWS_ENDPOINT_URL_LAMBDA to the local stack's Invoke API", () => {
    expect(environmentOf('SendHandler').AWS_ENDPOINT_URL_LAMBDA).toBe('http://127.0.0.1:4510');
  });

  it("resolves TABLE_NAME to the table's local name", () => {
    const [table] = model.tables;

    expect(environmentOf('JoinHandler').TABLE_NAME).toBe(table?.logicalId);
  });

  it('gives no function an unresolved value', () => {
    for (const { name } of model.functions.values()) {
      for (const [variable, value] of Object.entries(environmentOf(name))) {
        expect(typeof value, `${name} ${variable}`).toBe('string');
        expect(value, `${name} ${variable}`).not.toMatch(/amazonaws\.com|\{"Ref"|Fn::/);
      }
    }
  });
});
