import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { RealtimeApi } from '../../lib/realtime-api.js';
import { type RealtimeApiProps, TokenVerification } from '../../lib/realtime-api-props.js';
import { RealtimeApiPropError } from '../../lib/realtime-api-validation.js';

/** Constructs the API with `props` and returns what it threw. */
function refusal(props: (stack: Stack) => RealtimeApiProps): unknown {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Consumer');
  try {
    new RealtimeApi(stack, 'Chat', props(stack));
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('RealtimeApi refuses at synth, naming the prop', () => {
  it.each<[string, (stack: Stack) => RealtimeApiProps, RegExp]>([
    [
      'tokens (JWKS URL)',
      () => ({ tokens: TokenVerification.jwks('http://issuer.example/jwks') }),
      /https URL/,
    ],
    [
      'allowedOrigins',
      () => ({ allowedOrigins: ['https://app.example.com/path'] }),
      /origins such as/,
    ],
    ['allowedOrigins', () => ({ allowedOrigins: [] }), /at least one/],
    [
      'limits.maxConnectionsPerUser',
      () => ({ limits: { maxConnectionsPerUser: 0 } }),
      /positive integer/,
    ],
    [
      'limits.maxRoomsPerConnection',
      () => ({ limits: { maxRoomsPerConnection: 1.5 } }),
      /positive integer/,
    ],
    ['limits.maxDataBytes', () => ({ limits: { maxDataBytes: -1 } }), /positive integer/],
    ['limits.rateLimitPerSecond', () => ({ limits: { rateLimitPerSecond: 0 } }), /positive number/],
    [
      'historyRetention',
      () => ({ historyRetention: Duration.minutes(90) }),
      /whole number of hours/,
    ],
    ['stageName', () => ({ stageName: 'v 1' }), /letters, digits/],
    [
      'throttle.rateLimit',
      () => ({ throttle: { rateLimit: 0, burstLimit: 10 } }),
      /positive number/,
    ],
    [
      'throttle.burstLimit',
      () => ({ throttle: { rateLimit: 10, burstLimit: 2.5 } }),
      /positive integer/,
    ],
    ['removalPolicy', () => ({ removalPolicy: RemovalPolicy.SNAPSHOT }), /RETAIN or/],
    ['fanOutShareSize', () => ({ fanOutShareSize: 0 }), /positive integer/],
    [
      'monitoring.alarmEmail',
      () => ({ monitoring: { alarmEmail: 'ops at example' } }),
      /email address/,
    ],
    [
      'monitoring.alarmEmail',
      (stack) => ({
        monitoring: { alarmEmail: 'ops@example.com', alarmTopic: new sns.Topic(stack, 'T') },
      }),
      /alarmTopic/,
    ],
    [
      'monitoring.enabled',
      () => ({ monitoring: { enabled: false, alarmEmail: 'ops@example.com' } }),
      /no alarm/,
    ],
    ['hooks.entry', () => ({ hooks: { entry: 'no/such/hooks.ts' } }), /names no file/],
    ['hooks.entry', () => ({ hooks: { entry: 'package.json' } }), /module/],
    [
      'hooks.timeout',
      () => ({ hooks: { entry: 'lib/realtime-api.ts', timeout: Duration.seconds(11) } }),
      /at most 10/,
    ],
    ['serviceName', () => ({ serviceName: ' ' }), /empty/],
  ])('%s (%#)', (prop, props, reason) => {
    const error = refusal(props);
    expect(error).toBeInstanceOf(RealtimeApiPropError);
    expect((error as RealtimeApiPropError).prop).toBe(prop);
    expect((error as Error).message).toMatch(
      new RegExp(`^RealtimeApi Consumer/Chat: ${escapeRegExp(prop)} `),
    );
    expect((error as Error).message).toMatch(reason);
  });

  it('accepts values known only at deploy time (tokens) without judging them', () => {
    expect(
      refusal((stack) => ({
        stageName: stack.stackName.length > 0 ? 'prod' : 'x',
        allowedOrigins: [stack.resolve('https://app.example.com') as string],
      })),
    ).toBeUndefined();
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
