import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CfnElement, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { HANDLER_NAMES, HOOKED_HANDLERS } from '../../lib/handler-needs.js';
import { TokenVerification } from '../../lib/realtime-api-props.js';
import { logicalIdOf, renderIntrinsic, statementsOfRole } from '../support/synth.js';
import { consumerStack, environmentOfHandler, resourcesOfType } from './support/consumer-stack.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat-jwt-AbCdEf';

/** A hooks module on disk: the construct checks the entry exists. */
function hooksFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'realtime-hooks-')), 'hooks.ts');
  writeFileSync(file, 'export const hooks = {};\n');
  return file;
}

describe('RealtimeApi defaults', () => {
  const consumer = consumerStack();
  const { json, template } = consumer;

  it('tokens: verifies HS256 with a secret it generates, and gives its ARN to the verifiers', () => {
    expect(resourcesOfType(json, 'AWS::SecretsManager::Secret')).toHaveLength(1);
    const env = environmentOfHandler(consumer, 'authorizer');
    expect(env.JWT_SECRET_ARN).toEqual({ Ref: expect.stringMatching(/^ChatJwtSecret/) });
    expect(env).not.toHaveProperty('JWT_JWKS_URL');
    expect(env).not.toHaveProperty('JWT_ISSUER');
  });

  it('allowedOrigins: any origin (the authorizer is given no list)', () => {
    expect(environmentOfHandler(consumer, 'authorizer')).not.toHaveProperty('ALLOWED_ORIGINS');
  });

  it('limits: the functions’ own defaults (no limit is set)', () => {
    const env = environmentOfHandler(consumer, 'send');
    for (const name of [
      'MAX_CONNECTIONS_PER_USER',
      'MAX_ROOMS_PER_CONNECTION',
      'MAX_DATA_BYTES',
      'RATE_LIMIT_PER_SECOND',
    ]) {
      expect(env, name).not.toHaveProperty(name);
    }
  });

  it('historyRetention: the functions’ 24 hours (not set)', () => {
    expect(environmentOfHandler(consumer, 'send')).not.toHaveProperty('HISTORY_TTL_HOURS');
  });

  it('stageName: prod', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { StageName: 'prod' });
    expect(renderIntrinsic(consumer.stack.resolve(consumer.api.callbackUrl))).toMatch(/\/prod$/);
  });

  it('throttle: 500 requests a second, bursts of 1000', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
    });
  });

  it('removalPolicy: retains the table, with deletion protection', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
  });

  it('removalPolicy: retains the generated secret and every log group', () => {
    template.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain' });
    for (const [id, group] of resourcesOfType(json, 'AWS::Logs::LogGroup')) {
      expect((group as { DeletionPolicy?: string }).DeletionPolicy, id).toBe('Retain');
    }
  });

  it('pointInTimeRecovery: on', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('logRetention: a month, for the functions and the access logs alike', () => {
    const groups = resourcesOfType(json, 'AWS::Logs::LogGroup');
    expect(groups).toHaveLength(HANDLER_NAMES.length + 1);
    for (const [id, group] of groups) expect(group.Properties?.RetentionInDays, id).toBe(30);
  });

  it('fanOutShareSize: the functions’ 2,500 (not set)', () => {
    expect(environmentOfHandler(consumer, 'send')).not.toHaveProperty('FAN_OUT_CHUNK_SIZE');
  });

  it('monitoring: alarms and a dashboard, notifying nobody', () => {
    expect(consumer.api.alarms?.length).toBe(2 * HANDLER_NAMES.length + 4);
    expect(consumer.api.dashboard).toBeDefined();
    template.resourceCountIs('AWS::SNS::Topic', 0);
    for (const [id, alarm] of resourcesOfType(json, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties?.AlarmActions, id).toBeUndefined();
    }
  });

  it('hooks: none (no function is given a hook budget)', () => {
    for (const handler of HANDLER_NAMES) {
      expect(environmentOfHandler(consumer, handler), handler).not.toHaveProperty(
        'HOOK_TIMEOUT_MS',
      );
    }
  });

  it('serviceName: the stack’s name and the construct’s path, on every function', () => {
    expect(consumer.api.serviceName).toBe('Consumer/Chat');
    for (const handler of HANDLER_NAMES) {
      expect(environmentOfHandler(consumer, handler).POWERTOOLS_SERVICE_NAME, handler).toBe(
        'Consumer/Chat',
      );
    }
  });

  it('manageAccountLogging: sets the account’s API Gateway CloudWatch role', () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
  });

  it('exposes the URLs, the table and the publish function it made', () => {
    const { api, stack } = consumer;
    expect(renderIntrinsic(stack.resolve(api.url))).toMatch(/^wss:\/\//);
    expect(renderIntrinsic(stack.resolve(api.callbackUrl))).toMatch(/^https:\/\//);
    expect(api.table).toBe(api.node.findChild('Data').node.findChild('Table'));
    expect(api.publishFunction).toBe(api.functions.publish);
  });
});

describe('RealtimeApi props', () => {
  it('tokens: a JWKS URL with issuer and audience creates no secret', () => {
    const consumer = consumerStack({
      tokens: TokenVerification.jwks('https://issuer.example/jwks.json', {
        issuer: 'https://issuer.example/',
        audience: 'chat',
      }),
    });
    consumer.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(environmentOfHandler(consumer, 'authorizer')).toMatchObject({
      JWT_JWKS_URL: 'https://issuer.example/jwks.json',
      JWT_ISSUER: 'https://issuer.example/',
      JWT_AUDIENCE: 'chat',
    });
    expect(environmentOfHandler(consumer, 'authorizer')).not.toHaveProperty('JWT_SECRET_ARN');
  });

  it('tokens: an existing secret is read, not created', () => {
    const consumer = consumerStack((stack) => ({
      tokens: TokenVerification.fromSecret(
        secretsmanager.Secret.fromSecretCompleteArn(stack, 'Existing', SECRET_ARN),
      ),
    }));
    consumer.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(environmentOfHandler(consumer, 'authorizer').JWT_SECRET_ARN).toBe(SECRET_ARN);
    const role = consumer.api.functions.authorizer.role?.node.defaultChild as CfnElement;
    const reads = statementsOfRole(consumer.json, logicalIdOf(consumer.stack, role)).filter(
      (statement) => JSON.stringify(statement.Resource) === JSON.stringify(SECRET_ARN),
    );
    expect(reads).toHaveLength(1);
  });

  it('allowedOrigins: reach the authorizer, comma-separated', () => {
    const consumer = consumerStack({
      allowedOrigins: ['https://app.example.com', 'http://localhost:5173'],
    });
    expect(environmentOfHandler(consumer, 'authorizer').ALLOWED_ORIGINS).toBe(
      'https://app.example.com,http://localhost:5173',
    );
  });

  it('limits: reach every function that reads the table', () => {
    const consumer = consumerStack({
      limits: {
        maxConnectionsPerUser: 3,
        maxRoomsPerConnection: 20,
        maxDataBytes: 4096,
        rateLimitPerSecond: 2.5,
      },
    });
    expect(environmentOfHandler(consumer, 'connect')).toMatchObject({
      MAX_CONNECTIONS_PER_USER: '3',
      MAX_ROOMS_PER_CONNECTION: '20',
      MAX_DATA_BYTES: '4096',
      RATE_LIMIT_PER_SECOND: '2.5',
    });
  });

  it('historyRetention: reaches the functions in hours', () => {
    const consumer = consumerStack({ historyRetention: Duration.days(7) });
    expect(environmentOfHandler(consumer, 'send').HISTORY_TTL_HOURS).toBe('168');
  });

  it('stageName: names the stage and ends the callback URL', () => {
    const consumer = consumerStack({ stageName: 'v2' });
    consumer.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { StageName: 'v2' });
    expect(renderIntrinsic(consumer.stack.resolve(consumer.api.callbackUrl))).toMatch(/\/v2$/);
  });

  it('throttle: sets the stage’s default route throttling', () => {
    const consumer = consumerStack({ throttle: { rateLimit: 50, burstLimit: 80 } });
    consumer.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 80 },
    });
  });

  it('removalPolicy DESTROY: the table goes with the stack, unprotected', () => {
    const consumer = consumerStack({ removalPolicy: RemovalPolicy.DESTROY });
    consumer.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
    consumer.template.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Delete' });
  });

  it('pointInTimeRecovery false: no continuous backups', () => {
    const consumer = consumerStack({ pointInTimeRecovery: false });
    consumer.template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
    });
  });

  it('logRetention: applies to every log group', () => {
    const consumer = consumerStack({ logRetention: logs.RetentionDays.ONE_WEEK });
    for (const [id, group] of resourcesOfType(consumer.json, 'AWS::Logs::LogGroup')) {
      expect(group.Properties?.RetentionInDays, id).toBe(7);
    }
  });

  it('fanOutShareSize: reaches every function that fans out', () => {
    const consumer = consumerStack({ fanOutShareSize: 500 });
    for (const handler of ['send', 'typing', 'publish', 'presence'] as const) {
      expect(environmentOfHandler(consumer, handler).FAN_OUT_CHUNK_SIZE, handler).toBe('500');
    }
  });

  it('monitoring disabled: no alarm, no dashboard', () => {
    const consumer = consumerStack({ monitoring: { enabled: false } });
    consumer.template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    consumer.template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(consumer.api.alarms).toBeUndefined();
  });

  it('monitoring alarmTopic: every alarm notifies the given topic, and no topic is made', () => {
    const consumer = consumerStack((stack) => ({
      monitoring: { alarmTopic: new sns.Topic(stack, 'OpsTopic') },
    }));
    const topics = resourcesOfType(consumer.json, 'AWS::SNS::Topic');
    expect(topics.map(([id]) => id)).toEqual([expect.stringMatching(/^OpsTopic/)]);
    for (const [id, alarm] of resourcesOfType(consumer.json, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties?.AlarmActions, id).toEqual([{ Ref: topics[0]?.[0] }]);
    }
  });

  it('monitoring alarmEmail: a topic of its own mails the address', () => {
    const consumer = consumerStack({ monitoring: { alarmEmail: 'ops@example.com' } });
    consumer.template.resourceCountIs('AWS::SNS::Topic', 1);
    consumer.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('hooks: the hooked functions, and only they, get the hook budget', () => {
    const consumer = consumerStack({
      hooks: { entry: hooksFile(), timeout: Duration.millis(1500) },
    });
    for (const handler of HANDLER_NAMES) {
      const budget = environmentOfHandler(consumer, handler).HOOK_TIMEOUT_MS;
      expect(budget, handler).toBe(HOOKED_HANDLERS.includes(handler) ? '1500' : undefined);
    }
  });

  it('hooks: the default budget is 3 seconds', () => {
    const consumer = consumerStack({ hooks: { entry: hooksFile() } });
    expect(environmentOfHandler(consumer, 'send').HOOK_TIMEOUT_MS).toBe('3000');
  });

  it('hooks: the hooked functions’ entry installs the hooks module and exports the handler', () => {
    const entry = hooksFile();
    consumerStack({ hooks: { entry } });
    const generated = generatedEntries().filter((file) => file.includes(JSON.stringify(entry)));
    expect(generated).toHaveLength(HOOKED_HANDLERS.length);
    const send = generated.find((file) => /handlers\/send\.(ts|js)"/.test(file)) ?? '';
    expect(send).toContain('installHooks(hooks);');
    expect(send).toMatch(/^export \{ handler \} from ".*handlers\/send\.ts";$/m);
  });

  it('serviceName: names the functions’ service', () => {
    const consumer = consumerStack({ serviceName: 'chat-eu' });
    expect(environmentOfHandler(consumer, 'send').POWERTOOLS_SERVICE_NAME).toBe('chat-eu');
  });

  it('manageAccountLogging false: leaves the account’s CloudWatch role alone', () => {
    const consumer = consumerStack({ manageAccountLogging: false });
    consumer.template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it('grantPublish: lets the grantee invoke the publish function, and nothing else', () => {
    let backend: iam.Role | undefined;
    const consumer = consumerStack({}, (api, stack) => {
      backend = new iam.Role(stack, 'Backend', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      });
      api.grantPublish(backend);
    });
    const role = backend?.node.defaultChild as CfnElement;
    const statements = statementsOfRole(consumer.json, logicalIdOf(consumer.stack, role));
    expect(statements).toHaveLength(1);
    expect(statements[0]?.Action).toBe('lambda:InvokeFunction');
    const publish = logicalIdOf(
      consumer.stack,
      consumer.api.publishFunction.node.defaultChild as CfnElement,
    );
    const named = JSON.stringify(statements[0]?.Resource).match(/"Chat\w+Handler\w+"/g);
    expect(new Set(named)).toEqual(new Set([`"${publish}"`]));
  });
});

/** The text of every entry generated for hooked functions in this project. */
function generatedEntries(): string[] {
  const dir = join(PROJECT_ROOT, 'node_modules', '.cache', 'realtime-api-hooks');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.mjs'))
    .map((file) => readFileSync(join(dir, file), 'utf8'));
}
