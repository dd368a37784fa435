import type { SynthOptions } from '../../support/synth.js';

/**
 * The app's configurations that change its resources: each way of holding
 * the token key, the dev stage, and alarm notifications. The whole-template
 * checks (cdk-nag, CloudFormation's validation) run on each.
 */
export const CONFIGURATIONS: readonly (readonly [string, SynthOptions])[] = [
  ['the generated HS256 secret', {}],
  ['a JWKS URL', { context: { JWT_JWKS_URL: 'https://issuer.example/.well-known/jwks.json' } }],
  [
    'an imported HS256 secret',
    {
      context: {
        JWT_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:realtime/jwt-AbCdEf',
      },
    },
  ],
  ['the dev stage', { context: { STAGE: 'dev' } }],
  ['alarm notifications by email', { context: { ALARM_EMAIL: 'ops@example.com' } }],
  [
    'the dev stage with alarm notifications',
    { context: { STAGE: 'dev', ALARM_EMAIL: 'ops@example.com' } },
  ],
];
