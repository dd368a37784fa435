import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { addRealtimeStack, cdkJsonContext } from '../../lib/realtime-app.js';
import { handlerId } from '../../lib/realtime-stack.js';
import {
  actionsOf,
  environmentOf,
  functionIdOf,
  logicalIdOf,
  roleIdOf,
  statementsOfRole,
  synthStack,
  templateJson,
} from '../support/synth.js';

const { stack, template } = synthStack();
const json = templateJson(template);
const publishId = functionIdOf(stack, 'publish');
const tableId = logicalIdOf(stack, stack.realtime.table.node.defaultChild as CfnTable);

/** Every place the template mentions the publish function, as JSON text. */
function mentionsOfPublish(type: string): string[] {
  return Object.values(template.findResources(type))
    .map((resource) => JSON.stringify(resource))
    .filter((text) => text.includes(`"${publishId}"`));
}

describe('the publish function', () => {
  it('is a function of its own, exposed as publishFunction', () => {
    expect(stack.realtime.publishFunction).toBe(stack.realtime.functions.publish);
    expect(stack.realtime.publishFunction.node.id).toBe(handlerId('publish'));
    expect(json.Resources[publishId]?.Type).toBe('AWS::Lambda::Function');
  });

  it('is no route or integration of the WebSocket API, which may not invoke it', () => {
    expect(Object.keys(template.findResources('AWS::ApiGatewayV2::Route', {}))).not.toHaveLength(0);
    for (const type of [
      'AWS::ApiGatewayV2::Route',
      'AWS::ApiGatewayV2::Integration',
      'AWS::Lambda::Permission',
    ]) {
      expect(mentionsOfPublish(type), type).toEqual([]);
    }
  });

  it('may call only the table actions that send and direct make after admission, on the table alone', () => {
    const dynamo = statementsOfRole(json, roleIdOf(stack, 'publish')).filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith('dynamodb:')),
    );
    expect(dynamo.flatMap(actionsOf).sort()).toEqual(
      ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'].sort(),
    );
    for (const statement of dynamo) {
      expect(statement.Resource).toEqual({ 'Fn::GetAtt': [tableId, 'Arn'] });
    }
  });

  it('may post to connections, with the callback URL in its environment', () => {
    const actions = statementsOfRole(json, roleIdOf(stack, 'publish')).flatMap(actionsOf);
    expect(actions).toContain('execute-api:ManageConnections');
    expect(environmentOf(template, publishId)).toHaveProperty('CALLBACK_URL');
  });

  it("outputs the function's name and ARN for other services to invoke it", () => {
    expect(template.findOutputs('PublishFunctionName').PublishFunctionName?.Value).toEqual({
      Ref: publishId,
    });
    expect(template.findOutputs('PublishFunctionArn').PublishFunctionArn?.Value).toEqual({
      'Fn::GetAtt': [publishId, 'Arn'],
    });
  });

  it('lets grantPublish give a role of the app lambda:InvokeFunction on its ARN and nothing else', () => {
    const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
    const own = addRealtimeStack(app, {});
    const role = new iam.Role(own, 'OrdersApiRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    own.grantPublish(role);
    const granted = Template.fromStack(own);
    const roleId = logicalIdOf(own, role.node.defaultChild as iam.CfnRole);
    const functionId = functionIdOf(own, 'publish');

    const statements = statementsOfRole(templateJson(granted), roleId);
    expect(statements.flatMap(actionsOf)).toEqual(['lambda:InvokeFunction']);
    granted.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleId }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'lambda:InvokeFunction',
            // Not `<arn>:*` (its versions and aliases): no wildcard for cdk-nag to flag.
            Resource: { 'Fn::GetAtt': [functionId, 'Arn'] },
          }),
        ],
      },
    });
  });
});
