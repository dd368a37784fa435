import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { type ConfigEnv, ConfigError, readConfig } from '../../lib/config.js';
import { HANDLER_NAMES, type HandlerName } from '../../lib/realtime-stack.js';
import { environmentOf, functionIdOf, synthStack } from '../support/synth.js';

/** The fan-out workers only post: they never touch the table. */
const TABLE_USERS = HANDLER_NAMES.filter(
  (h) => h !== 'authorizer' && h !== 'default' && h !== 'fanout',
);

function read(context: Record<string, unknown>, env: ConfigEnv = {}) {
  return readConfig(new App({ context }).node, env);
}

function refusal(context: Record<string, unknown>): unknown {
  try {
    read(context);
  } catch (error) {
    return error;
  }
  throw new Error('accepted');
}

function handlersWith(synthesized: ReturnType<typeof synthStack>, name: string): HandlerName[] {
  return HANDLER_NAMES.filter(
    (handler) =>
      environmentOf(synthesized.template, functionIdOf(synthesized.stack, handler))[name] !==
      undefined,
  );
}

describe('the configuration', () => {
  it('takes a setting from the context before the environment', () => {
    expect(read({ MAX_DATA_BYTES: '1000' }, { MAX_DATA_BYTES: '2000' }).limits.maxDataBytes).toBe(
      1000,
    );
  });

  it('falls back to the environment', () => {
    expect(read({}, { MAX_DATA_BYTES: '2000' }).limits.maxDataBytes).toBe(2000);
  });

  it('accepts numbers from cdk.json', () => {
    expect(read({ RATE_LIMIT_PER_SECOND: 5 }).limits.rateLimitPerSecond).toBe(5);
  });

  it('treats an empty value as unset', () => {
    expect(read({ STAGE_NAME: '' }).stageName).toBe('prod');
  });

  it('leaves unset limits to the functions’ own defaults', () => {
    const synthesized = synthStack();
    for (const name of [
      'MAX_CONNECTIONS_PER_USER',
      'MAX_ROOMS_PER_CONNECTION',
      'MAX_DATA_BYTES',
      'RATE_LIMIT_PER_SECOND',
      'HISTORY_TTL_HOURS',
    ]) {
      expect(handlersWith(synthesized, name), name).toEqual([]);
    }
  });

  it('passes each limit given to every function that uses the table', () => {
    const synthesized = synthStack({
      context: {
        MAX_CONNECTIONS_PER_USER: '3',
        MAX_ROOMS_PER_CONNECTION: '5',
        MAX_DATA_BYTES: '4096',
        RATE_LIMIT_PER_SECOND: '20',
        HISTORY_TTL_HOURS: '48',
      },
    });
    const env = environmentOf(synthesized.template, functionIdOf(synthesized.stack, 'send'));
    expect(env).toMatchObject({
      MAX_CONNECTIONS_PER_USER: '3',
      MAX_ROOMS_PER_CONNECTION: '5',
      MAX_DATA_BYTES: '4096',
      RATE_LIMIT_PER_SECOND: '20',
      HISTORY_TTL_HOURS: '48',
    });
    expect(handlersWith(synthesized, 'MAX_DATA_BYTES')).toEqual(TABLE_USERS);
  });

  it('passes the issuer and audience to the token verifiers only', () => {
    const synthesized = synthStack({
      context: { JWT_ISSUER: 'https://issuer.example.com/', JWT_AUDIENCE: 'realtime' },
    });
    expect(handlersWith(synthesized, 'JWT_ISSUER')).toEqual(['authorizer', 'auth']);
    expect(handlersWith(synthesized, 'JWT_AUDIENCE')).toEqual(['authorizer', 'auth']);
  });

  it('passes the allowed origins to the authorizer only', () => {
    const synthesized = synthStack({
      context: { ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:5173' },
    });
    expect(handlersWith(synthesized, 'ALLOWED_ORIGINS')).toEqual(['authorizer']);
    expect(
      environmentOf(synthesized.template, functionIdOf(synthesized.stack, 'authorizer'))
        .ALLOWED_ORIGINS,
    ).toBe('https://app.example.com,http://localhost:5173');
  });

  it.each([
    ['MAX_CONNECTIONS_PER_USER', 'ten'],
    ['MAX_CONNECTIONS_PER_USER', '0'],
    ['MAX_CONNECTIONS_PER_USER', '2.5'],
    ['MAX_ROOMS_PER_CONNECTION', '0'],
    ['REFERENCE_HANDLER', 'yes'],
    ['MAX_DATA_BYTES', '-1'],
    ['RATE_LIMIT_PER_SECOND', 'Infinity'],
    ['HISTORY_TTL_HOURS', '0'],
    ['STAGE_RATE_LIMIT', 'fast'],
    ['STAGE_BURST_LIMIT', '10.5'],
    ['STAGE_NAME', 'prod/v1'],
    ['JWT_JWKS_URL', 'http://issuer.example.com/jwks.json'],
    ['JWT_JWKS_URL', 'not a url'],
    ['JWT_SECRET_ARN', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:realtime-jwt'],
    ['ALLOWED_ORIGINS', 'https://app.example.com/path'],
    ['ALLOWED_ORIGINS', 'app.example.com'],
    ['STAGE', 'staging'],
    ['STAGE', 'Prod'],
    ['ALARM_EMAIL', 'ops'],
    ['ALARM_EMAIL', 'ops@localhost'],
    ['ALARM_EMAIL', 'ops@example.com,dev@example.com'],
    ['ALARM_EMAIL', 'Ops <ops@example.com>'],
  ])('refuses %s=%s, naming the setting', (name, value) => {
    const error = refusal({ [name]: value });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'invalid_value', setting: name });
    expect((error as Error).message).toContain(name);
  });

  it('deploys the prod stage when STAGE is unset', () => {
    expect(read({}).stage).toBe('prod');
  });

  it('reads the stage from the context before the environment', () => {
    expect(read({ STAGE: 'dev' }, { STAGE: 'prod' }).stage).toBe('dev');
    expect(read({}, { STAGE: 'dev' }).stage).toBe('dev');
  });

  it('names the stages a refused STAGE may take', () => {
    expect((refusal({ STAGE: 'staging' }) as Error).message).toBe(
      'STAGE must be one of dev, prod, got "staging"',
    );
  });

  it('takes one alarm address, and none by default', () => {
    expect(read({ ALARM_EMAIL: ' ops@example.com ' }).alarmEmail).toBe('ops@example.com');
    expect(read({})).not.toHaveProperty('alarmEmail');
  });

  it('says what an alarm address must look like', () => {
    expect((refusal({ ALARM_EMAIL: 'ops' }) as Error).message).toBe(
      'ALARM_EMAIL must be one email address, such as ops@example.com, got "ops"',
    );
  });

  it('refuses a value that is neither a string nor a number', () => {
    expect(refusal({ MAX_DATA_BYTES: { bytes: 1 } })).toMatchObject({
      code: 'invalid_value',
      setting: 'MAX_DATA_BYTES',
    });
  });
});
