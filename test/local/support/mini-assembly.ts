import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STACK_ID } from '../../../lib/realtime-app.js';

/** A resource of a hand-written template. */
export interface MiniResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

/** A function of a hand-written template, with the code of its bundle. */
export interface MiniFunction {
  readonly logicalId: string;
  /** Its construct id (the local stack's name for it in logs and the meter). */
  readonly name: string;
  /** The source of `index.mjs`, exporting `handler`. */
  readonly code: string;
  /** Environment variables, intrinsics allowed. */
  readonly environment?: Record<string, unknown>;
  /** Seconds. @default 3 */
  readonly timeout?: number;
}

/** A cloud assembly written to a temporary directory. */
export interface MiniAssembly {
  readonly outdir: string;
  remove(): void;
}

/** A single-table template's table: `pk`/`sk` strings, with a stream of `viewType` if given. */
export function tableResource(viewType?: string): MiniResource {
  return {
    Type: 'AWS::DynamoDB::Table',
    Properties: {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      ...(viewType === undefined ? {} : { StreamSpecification: { StreamViewType: viewType } }),
    },
  };
}

/**
 * Writes the smallest template the local stack runs (a WebSocket API whose
 * `$default` route goes to the first function, its stage) with the given
 * functions and further resources. `nodeModules` links this repository's
 * node_modules beside the bundles, standing in for the SDK of Lambda's runtime.
 */
export function writeMiniAssembly(options: {
  readonly functions: readonly MiniFunction[];
  readonly resources?: Readonly<Record<string, MiniResource>>;
  readonly nodeModules?: boolean;
}): MiniAssembly {
  const outdir = mkdtempSync(join(tmpdir(), 'realtime-mini-'));
  const [first] = options.functions;
  if (first === undefined) throw new Error('a mini assembly needs a function');
  const resources: Record<string, MiniResource> = {
    Api: {
      Type: 'AWS::ApiGatewayV2::Api',
      Properties: { ProtocolType: 'WEBSOCKET', RouteSelectionExpression: '$request.body.action' },
    },
    Stage: {
      Type: 'AWS::ApiGatewayV2::Stage',
      Properties: { ApiId: { Ref: 'Api' }, StageName: 'prod' },
    },
    DefaultIntegration: {
      Type: 'AWS::ApiGatewayV2::Integration',
      Properties: {
        ApiId: { Ref: 'Api' },
        IntegrationType: 'AWS_PROXY',
        IntegrationUri: {
          'Fn::Join': [
            '',
            [
              'arn:aws:apigateway:',
              { Ref: 'AWS::Region' },
              ':lambda:path/2015-03-31/functions/',
              { 'Fn::GetAtt': [first.logicalId, 'Arn'] },
              '/invocations',
            ],
          ],
        },
      },
    },
    DefaultRoute: {
      Type: 'AWS::ApiGatewayV2::Route',
      Properties: {
        ApiId: { Ref: 'Api' },
        RouteKey: '$default',
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: 'DefaultIntegration' }]] },
      },
    },
    ...options.resources,
  };
  for (const fn of options.functions) {
    const asset = `asset.${fn.logicalId}`;
    mkdirSync(join(outdir, asset));
    writeFileSync(join(outdir, asset, 'index.mjs'), fn.code);
    resources[fn.logicalId] = {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Handler: 'index.handler',
        Runtime: 'nodejs22.x',
        Timeout: fn.timeout ?? 3,
        ...(fn.environment === undefined ? {} : { Environment: { Variables: fn.environment } }),
      },
      Metadata: { 'aws:cdk:path': `${STACK_ID}/${fn.name}/Resource`, 'aws:asset:path': asset },
    };
  }
  writeFileSync(
    join(outdir, `${STACK_ID}.template.json`),
    JSON.stringify({ Resources: resources }),
  );
  if (options.nodeModules) {
    symlinkSync(join(process.cwd(), 'node_modules'), join(outdir, 'node_modules'), 'dir');
  }
  return { outdir, remove: () => rmSync(outdir, { recursive: true, force: true }) };
}
