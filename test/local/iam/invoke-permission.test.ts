import { describe, expect, inject, it } from 'vitest';
import { STACK_ID } from '../../../lib/realtime-app.js';
import type { Resolution } from '../../../local/assembly/intrinsics.js';
import { type Resource, readStackModel } from '../../../local/assembly/stack-model.js';
import { readFunctionPermissions } from '../../../local/iam/function-permissions.js';
import { API_GATEWAY_PRINCIPAL, InvokePermissions } from '../../../local/iam/invoke-permission.js';

const ACCOUNT = '000000000000';
const API = `arn:aws:execute-api:us-east-1:${ACCOUNT}:local`;
const SEND_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:Send1`;
const RESOLUTION: Resolution = {
  refs: { Api: 'local', 'AWS::Region': 'us-east-1', 'AWS::AccountId': ACCOUNT },
  attributes: { 'Send1.Arn': SEND_ARN },
};

/** A permission as CDK synthesizes it for a WebSocket route's integration. */
function routePermission(routeKey: string, overrides: Record<string, unknown> = {}): Resource {
  return {
    Type: 'AWS::Lambda::Permission',
    Properties: {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': ['Send1', 'Arn'] },
      Principal: API_GATEWAY_PRINCIPAL,
      SourceArn: {
        'Fn::Join': [
          '',
          [
            'arn:aws:execute-api:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':',
            { Ref: 'Api' },
            `/*${routeKey}`,
          ],
        ],
      },
      ...overrides,
    },
  };
}

/** The check over a template of function Send1 and `permissions`, with what was noticed. */
function checkWith(permissions: Record<string, Resource>) {
  const notices: string[] = [];
  const policies = readFunctionPermissions({
    resources: [['Send1', { Type: 'AWS::Lambda::Function' }], ...Object.entries(permissions)],
    resolution: RESOLUTION,
    notice: (line) => notices.push(line),
  });
  const check = new InvokePermissions(
    (functionId) =>
      functionId === 'Send1' ? { functionArn: SEND_ARN, policy: policies.get('Send1') } : undefined,
    ACCOUNT,
  );
  const invoke = (sourceArn: string, principal = API_GATEWAY_PRINCIPAL) =>
    check.check('Send1', principal, sourceArn);
  return { check, invoke, notices };
}

describe("checking a service's invocation against the function's permissions", () => {
  it('lets API Gateway invoke the function for the route its permission names, on any stage', async () => {
    const { invoke } = checkWith({ SendPermission: routePermission('send') });

    expect(await invoke(`${API}/prod/send`)).toBeUndefined();
    expect(await invoke(`${API}/dev/send`)).toBeUndefined();
  });

  it('refuses it for another route, another API or another service, naming the function and source', async () => {
    const { invoke } = checkWith({ SendPermission: routePermission('send') });

    expect(await invoke(`${API}/prod/join`)).toEqual({
      principal: API_GATEWAY_PRINCIPAL,
      functionArn: SEND_ARN,
      sourceArn: `${API}/prod/join`,
      reason: 'no AWS::Lambda::Permission of the template allows it for this source',
    });
    expect(await invoke(`arn:aws:execute-api:us-east-1:${ACCOUNT}:other/prod/send`)).toBeDefined();
    expect(await invoke(`${API}/prod/send`, 'events.amazonaws.com')).toBeDefined();
  });

  it('refuses a function the template grants no permission', async () => {
    const { invoke } = checkWith({});

    expect(await invoke(`${API}/prod/send`)).toMatchObject({
      reason: 'the template grants it no AWS::Lambda::Permission',
    });
  });

  it('lets the authorizer be invoked for its own authorizer ARN only', async () => {
    const authorizer = routePermission('', {
      SourceArn: `${API}/authorizers/Authorizer1`,
    });
    const { invoke } = checkWith({ AuthorizerPermission: authorizer });

    expect(await invoke(`${API}/authorizers/Authorizer1`)).toBeUndefined();
    expect(await invoke(`${API}/authorizers/Authorizer2`)).toBeDefined();
    expect(await invoke(`${API}/prod/$connect`)).toBeDefined();
  });

  it('decides once per function, service and source, however many invocations ask', () => {
    const { check } = checkWith({ SendPermission: routePermission('send') });
    const first = check.check('Send1', API_GATEWAY_PRINCIPAL, `${API}/prod/send`);

    expect(check.check('Send1', API_GATEWAY_PRINCIPAL, `${API}/prod/send`)).toBe(first);
    expect(check.check('Send1', API_GATEWAY_PRINCIPAL, `${API}/prod/join`)).not.toBe(first);
  });

  it('leaves out, and notices, a permission for a version or alias or with no local value', async () => {
    const { invoke, notices } = checkWith({
      AliasPermission: routePermission('send', { FunctionName: `${SEND_ARN}:live` }),
      ImportedPermission: routePermission('send', { SourceArn: { 'Fn::ImportValue': 'x' } }),
    });

    expect(await invoke(`${API}/prod/send`)).toBeDefined();
    expect(notices).toEqual([
      expect.stringMatching(/^AliasPermission: not evaluated locally \(.*live.*\)$/),
      expect.stringMatching(/^ImportedPermission: not evaluated locally/),
    ]);
  });
});

describe('the synthesized template’s permissions', () => {
  it('let API Gateway invoke each route’s function for its route, and the authorizer for itself', async () => {
    const model = readStackModel(inject('cdkOutdir'), STACK_ID);
    const check = new InvokePermissions((functionId) => {
      const functionArn = model.resolution.attributes[`${functionId}.Arn`];
      return functionArn === undefined
        ? undefined
        : { functionArn, policy: model.permissions.get(functionId) };
    }, ACCOUNT);
    const api = `arn:aws:execute-api:us-east-1:${ACCOUNT}:${model.apiId}`;
    const invoke = (functionId: string, path: string) =>
      check.check(functionId, API_GATEWAY_PRINCIPAL, `${api}/${path}`);

    for (const route of model.routes.values()) {
      expect(
        await invoke(route.functionId, `${model.stageName}/${route.routeKey}`),
      ).toBeUndefined();
      // Each function for its own route only.
      expect(await invoke(route.functionId, `${model.stageName}/not-a-route`)).toBeDefined();
    }
    const authorizer = model.routes.get('$connect')?.authorizer;
    expect(authorizer).toBeDefined();
    if (authorizer === undefined) return;
    expect(
      await invoke(authorizer.functionId, `authorizers/${authorizer.authorizerId}`),
    ).toBeUndefined();
    expect(await invoke(authorizer.functionId, `${model.stageName}/$connect`)).toBeDefined();
  });
});
