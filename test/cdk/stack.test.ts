import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CfnResource, Token } from 'aws-cdk-lib';
import type { CfnApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { STACK_ID } from '../../lib/realtime-app.js';
import {
  loadTemplate,
  logicalIdOf,
  renderIntrinsic,
  synthStack,
  templateJson,
} from '../support/synth.js';

const { stack, template } = synthStack();
const apiId = logicalIdOf(stack, stack.realtime.webSocket.api.node.defaultChild as CfnApi);

function outputValue(name: string): unknown {
  const outputs = template.findOutputs(name);
  expect(Object.keys(outputs)).toEqual([name]);
  return outputs[name]?.Value;
}

describe('the stack', () => {
  it('is bound to no account or region', () => {
    expect(Token.isUnresolved(stack.account)).toBe(true);
    expect(Token.isUnresolved(stack.region)).toBe(true);
  });

  it('is synthesized by the app for any account and region', () => {
    const manifest = JSON.parse(readFileSync(join(inject('cdkOutdir'), 'manifest.json'), 'utf8'));
    expect(manifest.artifacts[STACK_ID]).toMatchObject({
      type: 'aws:cloudformation:stack',
      environment: 'aws://unknown-account/unknown-region',
    });
  });

  it('has the same resources as the app synthesized with bundles', () => {
    const bundled = templateJson(loadTemplate(inject('cdkOutdir'))).Resources;
    const unbundled = templateJson(template).Resources;
    expect(Object.keys(bundled).sort()).toEqual(Object.keys(unbundled).sort());
  });

  it('outputs the wss URL clients connect to', () => {
    expect(renderIntrinsic(outputValue('WebSocketUrl'))).toBe(
      `wss://\${${apiId}}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}/prod`,
    );
  });

  it('outputs the https callback URL of the management API', () => {
    expect(renderIntrinsic(outputValue('CallbackUrl'))).toBe(
      `https://\${${apiId}}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}/prod`,
    );
  });

  it('gives no resource a physical name', () => {
    const nameProperty: Readonly<Record<string, string>> = {
      'AWS::DynamoDB::Table': 'TableName',
      'AWS::Lambda::Function': 'FunctionName',
      'AWS::IAM::Role': 'RoleName',
      'AWS::Logs::LogGroup': 'LogGroupName',
      'AWS::SecretsManager::Secret': 'Name',
    };
    const resources = Object.entries(templateJson(template).Resources);
    const named = resources.filter(([, resource]) => {
      const key = nameProperty[resource.Type];
      return key !== undefined && resource.Properties?.[key] !== undefined;
    });
    expect(resources.length).toBeGreaterThan(0);
    expect(named.map(([id]) => id)).toEqual([]);
  });

  it('keeps the logical ids of the table, secret and API (tripwire: a change replaces them)', () => {
    const ids = {
      api: apiId,
      table: logicalIdOf(stack, stack.realtime.table.node.defaultChild as CfnTable),
      jwtSecret: logicalIdOf(stack, stack.realtime.jwtSecret?.node.defaultChild as CfnResource),
    };
    expect(ids).toMatchInlineSnapshot(`
      {
        "api": "WebSocketApi273F6915",
        "jwtSecret": "JwtSecretB8834B39",
        "table": "DataTableFDBAD0F2",
      }
    `);
  });
});
