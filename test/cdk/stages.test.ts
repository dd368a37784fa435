import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/config.js';
import { addRealtimeStack, STACK_ID } from '../../lib/realtime-app.js';
import {
  type SynthOptions,
  synthStack,
  type TemplateResource,
  templateJson,
} from '../support/synth.js';

/** Every resource of a type in the stack of a configuration. */
function resourcesOf(synthesized: ReturnType<typeof synthStack>, type: string): TemplateResource[] {
  return Object.values(templateJson(synthesized.template).Resources).filter(
    (resource) => resource.Type === type,
  );
}

function only(resources: TemplateResource[]): TemplateResource {
  expect(resources).toHaveLength(1);
  return resources[0] as TemplateResource;
}

const prod = synthStack();
const dev = synthStack({ context: { STAGE: 'dev' } });

describe('the stages', () => {
  it('default to prod, the stage that keeps its data, under the stack name it always had', () => {
    expect(prod.stack.stackName).toBe('Realtime');
    expect(synthStack({ context: { STAGE: 'prod' } }).stack.stackName).toBe('Realtime');
  });

  it('give dev a stack name of its own, so both stages fit in one account and region', () => {
    expect(dev.stack.stackName).toBe('Realtime-dev');
  });

  it('keep one stack id, which the local stack and the cloud assembly are read by', () => {
    expect(dev.stack.artifactId).toBe(STACK_ID);
    expect(prod.stack.artifactId).toBe(STACK_ID);
  });

  it('are chosen from the environment when the context does not say', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    expect(addRealtimeStack(app, { STAGE: 'dev' }).stackName).toBe('Realtime-dev');
  });

  it('refuse a stage that is neither dev nor prod before anything is built', () => {
    const app = new App();
    expect(() => addRealtimeStack(app, { STAGE: 'staging' })).toThrow(ConfigError);
    expect(app.node.children).toEqual([]);
  });

  it('name the API Gateway stage after the deployment stage unless STAGE_NAME says otherwise', () => {
    const stageNames = (options: SynthOptions) =>
      resourcesOf(synthStack(options), 'AWS::ApiGatewayV2::Stage').map(
        (stage) => stage.Properties?.StageName,
      );
    expect(stageNames({})).toEqual(['prod']);
    expect(stageNames({ context: { STAGE: 'dev' } })).toEqual(['dev']);
    expect(stageNames({ context: { STAGE: 'dev', STAGE_NAME: 'v1' } })).toEqual(['v1']);
  });
});

describe('the prod stage', () => {
  const table = only(resourcesOf(prod, 'AWS::DynamoDB::Table'));

  it('keeps the table through stack deletion and replacement', () => {
    expect(table).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('protects the table from deletion and keeps point-in-time recovery on', () => {
    expect(table.Properties).toMatchObject({
      DeletionProtectionEnabled: true,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('keeps every log group, with its logs for a month', () => {
    const groups = resourcesOf(prod, 'AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThan(1);
    for (const group of groups) {
      expect(group).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: { RetentionInDays: 30 },
      });
    }
  });

  it('keeps the generated HS256 secret, which token issuers hold', () => {
    expect(only(resourcesOf(prod, 'AWS::SecretsManager::Secret'))).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });
});

describe('the dev stage', () => {
  const table = only(resourcesOf(dev, 'AWS::DynamoDB::Table'));

  it('deletes the table with the stack', () => {
    expect(table).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  });

  it('leaves the table unprotected and without point-in-time recovery', () => {
    expect(table.Properties).toMatchObject({
      DeletionProtectionEnabled: false,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
    });
  });

  it('deletes every log group with the stack, and keeps logs a week until then', () => {
    const groups = resourcesOf(dev, 'AWS::Logs::LogGroup');
    expect(groups).toHaveLength(resourcesOf(prod, 'AWS::Logs::LogGroup').length);
    for (const group of groups) {
      expect(group).toMatchObject({
        DeletionPolicy: 'Delete',
        UpdateReplacePolicy: 'Delete',
        Properties: { RetentionInDays: 7 },
      });
    }
  });

  it('deletes the generated HS256 secret with the stack', () => {
    expect(only(resourcesOf(dev, 'AWS::SecretsManager::Secret'))).toMatchObject({
      DeletionPolicy: 'Delete',
    });
  });

  it('retains nothing but the account-wide API Gateway logging role and setting, which other APIs use', () => {
    const retained = Object.values(templateJson(dev.template).Resources)
      .filter((resource) => (resource as { DeletionPolicy?: string }).DeletionPolicy === 'Retain')
      .map((resource) => resource.Type)
      .sort();
    expect(retained).toEqual(['AWS::ApiGateway::Account', 'AWS::IAM::Role']);
  });
});
