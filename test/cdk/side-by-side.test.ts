import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { RealtimeApi } from '../../lib/realtime-api.js';
import type { TemplateJson } from '../support/synth.js';

/** Properties CloudFormation resources take as fixed physical names. */
const PHYSICAL_NAMES = [
  'TableName',
  'FunctionName',
  'RoleName',
  'LogGroupName',
  'DashboardName',
  'TopicName',
  'AlarmName',
  'Name',
  'StageName',
];

describe('two RealtimeApi in one stack, beside the consumer’s own resources', () => {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Consumer');
  new s3.Bucket(stack, 'Uploads');
  const chat = new RealtimeApi(stack, 'Chat');
  const alerts = new RealtimeApi(stack, 'Alerts', { stageName: 'prod' });
  const json = Template.fromStack(stack).toJSON() as TemplateJson;

  it('fix no physical name that the other would also claim', () => {
    const claimed = new Map<string, string>();
    for (const [id, resource] of Object.entries(json.Resources)) {
      for (const property of PHYSICAL_NAMES) {
        const value = resource.Properties?.[property];
        if (typeof value !== 'string') continue;
        // A stage name is unique per API only, not per account.
        if (
          property === 'StageName' ||
          (property === 'Name' && resource.Type.startsWith('AWS::ApiGatewayV2'))
        )
          continue;
        const key = `${resource.Type} ${property}=${value}`;
        expect(claimed.get(key), `${id} and ${claimed.get(key)} both claim ${key}`).toBeUndefined();
        claimed.set(key, id);
      }
    }
  });

  it('set the account’s API Gateway logging role once', () => {
    const accounts = Object.values(json.Resources).filter(
      (resource) => resource.Type === 'AWS::ApiGateway::Account',
    );
    expect(accounts).toHaveLength(1);
  });

  it('each have their own table, API, functions and metrics service', () => {
    const count = (type: string) =>
      Object.values(json.Resources).filter((resource) => resource.Type === type).length;
    expect(count('AWS::DynamoDB::Table')).toBe(2);
    expect(count('AWS::ApiGatewayV2::Api')).toBe(2);
    expect(count('AWS::S3::Bucket')).toBe(1);
    expect(chat.serviceName).not.toBe(alerts.serviceName);
    expect(stack.resolve(chat.table.tableName)).not.toEqual(stack.resolve(alerts.table.tableName));
  });
});
