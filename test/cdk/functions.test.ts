import { existsSync, readFileSync } from 'node:fs';
import type { CfnApi, CfnStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { describe, expect, inject, it } from 'vitest';
import { HANDLER_NAMES } from '../../lib/realtime-stack.js';
import {
  environmentOf,
  functionIdOf,
  listFunctions,
  logicalIdOf,
  POSTING_HANDLERS,
  renderIntrinsic,
  synthStack,
  templateJson,
} from '../support/synth.js';

const { stack, template } = synthStack();
const resources = templateJson(template).Resources;
const POSTING = POSTING_HANDLERS;

function functionProperties(): Record<string, unknown>[] {
  return Object.values(template.findResources('AWS::Lambda::Function')).map(
    (resource) => resource.Properties as Record<string, unknown>,
  );
}

describe('the functions', () => {
  it('are one per handler', () => {
    template.resourceCountIs('AWS::Lambda::Function', HANDLER_NAMES.length);
  });

  it('all run on Node.js 24', () => {
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { Runtime: 'nodejs24.x' },
      HANDLER_NAMES.length,
    );
  });

  it('all run on arm64', () => {
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { Architectures: ['arm64'] },
      HANDLER_NAMES.length,
    );
  });

  it('all map stack traces through their source maps', () => {
    for (const properties of functionProperties()) {
      expect(properties).toMatchObject({
        Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps' } },
      });
    }
  });

  it('give a full vCPU (1,769 MB) to those that post to rooms and the sweeper, 256 MB to the others', () => {
    const fullVcpu = ['send', 'typing', 'publish', 'presence', 'fanout', 'sweep'];
    for (const handler of HANDLER_NAMES) {
      expect(resources[functionIdOf(stack, handler)]?.Properties?.MemorySize, handler).toBe(
        fullVcpu.includes(handler) ? 1769 : 256,
      );
    }
  });

  it('give the authorizer 5 seconds, the fan-out workers 10 (their callers wait), every other handler 15, within API Gateway’s 29, and the sweeper 5 minutes', () => {
    const expected = (handler: string) =>
      handler === 'authorizer' ? 5 : handler === 'sweep' ? 300 : handler === 'fanout' ? 10 : 15;
    for (const handler of HANDLER_NAMES) {
      expect(resources[functionIdOf(stack, handler)]?.Properties?.Timeout, handler).toBe(
        expected(handler),
      );
    }
  });

  it('each log to a log group of their own, kept for a month', () => {
    const groups = functionProperties().map((properties) => {
      const config = properties.LoggingConfig as { LogGroup: { Ref: string } };
      return config.LogGroup.Ref;
    });
    expect(new Set(groups).size).toBe(HANDLER_NAMES.length);
    for (const group of groups) {
      expect(resources[group]).toMatchObject({
        Type: 'AWS::Logs::LogGroup',
        Properties: { RetentionInDays: 30 },
      });
    }
  });

  it('are named by CloudFormation, not by the stack', () => {
    for (const properties of functionProperties()) {
      expect(properties).not.toHaveProperty('FunctionName');
    }
  });

  it('pass the callback URL to the functions that post, and to no other', () => {
    const withCallback = HANDLER_NAMES.filter(
      (handler) => environmentOf(template, functionIdOf(stack, handler)).CALLBACK_URL !== undefined,
    );
    expect(withCallback.sort()).toEqual([...POSTING].sort());
  });

  it('build the callback URL from the API id and stage name, not from the Stage resource', () => {
    const apiId = logicalIdOf(stack, stack.realtime.webSocket.api.node.defaultChild as CfnApi);
    const stageId = logicalIdOf(
      stack,
      stack.realtime.webSocket.stage.node.defaultChild as CfnStage,
    );
    const url = environmentOf(template, functionIdOf(stack, 'send')).CALLBACK_URL;
    expect(JSON.stringify(url)).not.toContain(stageId);
    expect(renderIntrinsic(url)).toBe(
      `https://\${${apiId}}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}/prod`,
    );
  });
});

describe('the bundles of the synthesized app', () => {
  const functions = listFunctions(inject('cdkOutdir'));

  it('are ESM that give the AWS SDK a real require', () => {
    for (const fn of functions) {
      expect(readFileSync(fn.bundle, 'utf8')).toMatch(
        /^import \{ createRequire \} from 'node:module'; const require = createRequire\(import\.meta\.url\);/,
      );
    }
  });

  it('come with source maps', () => {
    for (const fn of functions) {
      expect(existsSync(`${fn.bundle}.map`), fn.handler).toBe(true);
    }
  });

  it('carry the AWS SDK inside, except the authorizer’s lazily loaded Secrets Manager client', () => {
    for (const fn of functions) {
      const code = readFileSync(fn.bundle, 'utf8')
        // The one module the authorizer leaves to the Lambda runtime (see the stack).
        .replace(
          fn.handler === 'authorizer' ? 'import("@aws-sdk/client-secrets-manager")' : '',
          '',
        );
      expect(code, fn.handler).not.toMatch(
        // Not preceded by "[": the SDK's error messages quote require calls that way.
        /(?<!\[)(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\(\s*)["']@(?:aws-sdk|smithy)\//,
      );
    }
  });
});
