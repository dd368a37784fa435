import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { HandlerName } from '../../lib/realtime-stack.js';
import { functionIdOf, synthStack, templateJson } from '../support/synth.js';

const { stack, template } = synthStack();
const resources = templateJson(template).Resources;

const ACTION_ROUTES = ['join', 'leave', 'send', 'typing', 'direct', 'history', 'auth', 'ping'];
const MESSAGE_ROUTES = ['$default', ...ACTION_ROUTES];

/** Route key to logical id of its route. */
function routeIds(): Map<string, string> {
  return new Map(
    Object.entries(template.findResources('AWS::ApiGatewayV2::Route')).map(([id, route]) => [
      route.Properties.RouteKey as string,
      id,
    ]),
  );
}

function authorizerId(): string {
  const ids = Object.keys(template.findResources('AWS::ApiGatewayV2::Authorizer'));
  expect(ids).toHaveLength(1);
  return ids[0] as string;
}

describe('the WebSocket API', () => {
  it('routes frames on their action field', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    });
  });

  it('has exactly the $connect, $disconnect, $default and protocol action routes', () => {
    expect([...routeIds().keys()].sort()).toEqual(
      ['$connect', '$disconnect', ...MESSAGE_ROUTES].sort(),
    );
  });

  it('authorizes $connect with the Lambda authorizer', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: '$connect',
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: authorizerId() },
    });
  });

  it('authorizes no route but $connect', () => {
    const others = Object.values(template.findResources('AWS::ApiGatewayV2::Route'))
      .map((route) => route.Properties)
      .filter((properties) => properties.RouteKey !== '$connect');
    expect(others).toHaveLength(10);
    for (const properties of others) {
      expect(properties).toMatchObject({ AuthorizationType: 'NONE' });
      expect(properties).not.toHaveProperty('AuthorizerId');
    }
  });

  it('has a REQUEST authorizer reading the token query parameter', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      IdentitySource: ['route.request.querystring.token'],
    });
  });

  it('runs the authorizer function to authorize', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerUri: {
        'Fn::Join': [
          '',
          Match.arrayWith([{ 'Fn::GetAtt': [functionIdOf(stack, 'authorizer'), 'Arn'] }]),
        ],
      },
    });
  });

  it('answers the message routes with their integration response', () => {
    const ids = routeIds();
    const answered = Object.values(template.findResources('AWS::ApiGatewayV2::RouteResponse'))
      .filter((response) => response.Properties.RouteResponseKey === '$default')
      .map((response) => response.Properties.RouteId as { Ref: string });
    const keys = [...ids].filter(([, id]) => answered.some((ref) => ref.Ref === id));
    expect(keys.map(([key]) => key).sort()).toEqual([...MESSAGE_ROUTES].sort());
  });

  it('selects the $default route response on the message routes only', () => {
    const selecting = Object.values(template.findResources('AWS::ApiGatewayV2::Route'))
      .filter((route) => route.Properties.RouteResponseSelectionExpression === '$default')
      .map((route) => route.Properties.RouteKey as string);
    expect(selecting.sort()).toEqual([...MESSAGE_ROUTES].sort());
  });

  it.each([
    ['$connect', 'connect'],
    ['$disconnect', 'disconnect'],
    ['$default', 'default'],
    ...ACTION_ROUTES.map((action) => [action, action]),
  ] as [string, HandlerName][])('proxies %s to the %s function', (routeKey, handler) => {
    const route = resources[routeIds().get(routeKey) ?? ''];
    const target = route?.Properties?.Target as { 'Fn::Join': [string, [string, { Ref: string }]] };
    const integrationId = target['Fn::Join'][1][1].Ref;
    expect(resources[integrationId]?.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: {
        'Fn::Join': [
          '',
          expect.arrayContaining([{ 'Fn::GetAtt': [functionIdOf(stack, handler), 'Arn'] }]),
        ],
      },
    });
  });
});
