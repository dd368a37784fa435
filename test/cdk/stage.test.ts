import { Capture, Match } from 'aws-cdk-lib/assertions';
import type { CfnStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { describe, expect, it } from 'vitest';
import { logicalIdOf, synthStack, templateJson } from '../support/synth.js';

const { stack, template } = synthStack();
const resources = templateJson(template).Resources;

function accessLogFormat(): Record<string, string> {
  const format = new Capture();
  template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
    AccessLogSettings: { Format: format },
  });
  return JSON.parse(format.asString()) as Record<string, string>;
}

describe('the stage', () => {
  it('is the only stage, named prod, deployed on every change', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'prod',
      AutoDeploy: true,
    });
  });

  it('throttles every route at 500 requests a second with bursts of 1000', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
    });
  });

  it('takes its name and throttle from the context', () => {
    const { template: custom } = synthStack({
      context: { STAGE_NAME: 'staging', STAGE_RATE_LIMIT: '50', STAGE_BURST_LIMIT: '100' },
    });
    custom.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'staging',
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });

  it('writes access logs as JSON with the fields operations need', () => {
    expect(accessLogFormat()).toEqual({
      requestId: '$context.requestId',
      connectionId: '$context.connectionId',
      eventType: '$context.eventType',
      routeKey: '$context.routeKey',
      status: '$context.status',
      integrationStatus: '$context.integration.status',
      integrationError: '$context.integration.error',
      authorizerError: '$context.authorizer.error',
      error: '$context.error.message',
      requestTime: '$context.requestTime',
      ip: '$context.identity.sourceIp',
    });
  });

  it('logs nothing that can hold the query string, where the token travels', () => {
    for (const variable of Object.values(accessLogFormat())) {
      expect(variable).toMatch(/^\$context\.[A-Za-z.]+$/);
      expect(variable.toLowerCase()).not.toMatch(/query|header|token|request\.|input|body/);
    }
  });

  it('sends access logs to a log group kept for a month', () => {
    const destination = new Capture();
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [destination, 'Arn'] } },
    });
    expect(resources[destination.asString()]).toMatchObject({
      Type: 'AWS::Logs::LogGroup',
      Properties: { RetentionInDays: 30 },
    });
  });

  it('is created only once the account has a CloudWatch role for API Gateway', () => {
    const account = Object.keys(template.findResources('AWS::ApiGateway::Account'));
    expect(account).toHaveLength(1);
    const stageId = logicalIdOf(
      stack,
      stack.realtime.webSocket.stage.node.defaultChild as CfnStage,
    );
    expect([resources[stageId]?.DependsOn].flat()).toContain(account[0]);
  });

  it('gives the account a role that API Gateway assumes to push logs', () => {
    const role = new Capture();
    template.hasResourceProperties('AWS::ApiGateway::Account', {
      CloudWatchRoleArn: { 'Fn::GetAtt': [role, 'Arn'] },
    });
    expect(resources[role.asString()]?.Properties).toMatchObject({
      AssumeRolePolicyDocument: {
        Statement: [
          expect.objectContaining({
            Action: 'sts:AssumeRole',
            Principal: { Service: 'apigateway.amazonaws.com' },
          }),
        ],
      },
      ManagedPolicyArns: [
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
            ],
          ],
        },
      ],
    });
  });

  it('keeps the account-wide CloudWatch role when the stack is deleted', () => {
    template.hasResource('AWS::ApiGateway::Account', { DeletionPolicy: 'Retain' });
    const role = new Capture();
    template.hasResourceProperties('AWS::ApiGateway::Account', {
      CloudWatchRoleArn: { 'Fn::GetAtt': [role, 'Arn'] },
    });
    expect(resources[role.asString()]).toMatchObject({ DeletionPolicy: 'Retain' });
  });

  it('has no execution logging, which would log the full request', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: Match.objectLike({
        DataTraceEnabled: Match.absent(),
        LoggingLevel: Match.absent(),
      }),
    });
  });
});
