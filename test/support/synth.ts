import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import {
  addRealtimeStack,
  cdkJsonContext,
  STACK_ID,
  type SynthOptions,
} from '../../lib/realtime-app.js';

export { cdkJsonContext, type SynthOptions, synthesizeApp } from '../../lib/realtime-app.js';

import {
  HANDLER_NAMES,
  type HandlerName,
  handlerId,
  type RealtimeStack,
} from '../../lib/realtime-stack.js';

/** Helpers that synthesize the app and read what it wrote. */

/**
 * Synthesizes the app in memory with bundling skipped: for template
 * assertions, in any configuration, in well under a second per call.
 */
export function synthStack(options: SynthOptions = {}): {
  stack: RealtimeStack;
  template: Template;
} {
  const app = new App({
    context: {
      ...cdkJsonContext(),
      // No stack is bundled: functions get placeholder code.
      'aws:cdk:bundling-stacks': [],
      ...options.context,
    },
  });
  const stack = addRealtimeStack(app, options.env ?? {});
  return { stack, template: Template.fromStack(stack) };
}

/** The raw template the synthesis wrote. */
export function readTemplateJson(outdir: string): TemplateJson {
  return JSON.parse(
    readFileSync(join(outdir, `${STACK_ID}.template.json`), 'utf8'),
  ) as TemplateJson;
}

/** The template the synthesis wrote, for assertions. */
export function loadTemplate(outdir: string): Template {
  return Template.fromJSON(readTemplateJson(outdir));
}

/** A CloudFormation template, loosely typed. */
export interface TemplateJson {
  readonly Resources: Record<string, TemplateResource>;
  readonly Outputs?: Record<string, { readonly Value: unknown }>;
}

/** A resource of a template. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly Metadata?: Record<string, unknown>;
}

/** One function of the synthesized template with its bundle. */
export interface SynthesizedFunction {
  readonly handler: HandlerName;
  readonly logicalId: string;
  /** The asset directory the bundle was written to. */
  readonly assetDir: string;
  /** The bundle itself, `index.mjs`. */
  readonly bundle: string;
  /** Environment variables whose value is a literal string (not a reference). */
  readonly literalEnvironment: Readonly<Record<string, string>>;
  /** The function's role, to find its policies. */
  readonly roleLogicalId: string;
}

/** Every function of the template written to `outdir`, with its bundle's path. */
export function listFunctions(outdir: string): SynthesizedFunction[] {
  const template = readTemplateJson(outdir);
  const byConstructId = new Map(HANDLER_NAMES.map((name) => [handlerId(name), name]));
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([logicalId, resource]) => {
      const path = String(resource.Metadata?.['aws:cdk:path'] ?? '');
      // `<stack>/<api>/<handler>/Resource`
      const constructId = path.split('/').at(-2);
      const handler = constructId === undefined ? undefined : byConstructId.get(constructId);
      if (handler === undefined) throw new Error(`${logicalId} (${path}) is no known handler`);
      const asset = resource.Metadata?.['aws:asset:path'];
      if (typeof asset !== 'string') throw new Error(`${logicalId} has no asset metadata`);
      const assetDir = join(outdir, asset);
      const bundle = join(assetDir, 'index.mjs');
      if (!existsSync(bundle)) throw new Error(`${logicalId} has no bundle at ${bundle}`);
      const properties = resource.Properties ?? {};
      const variables =
        (properties.Environment as { Variables?: Record<string, unknown> } | undefined)
          ?.Variables ?? {};
      const literalEnvironment = Object.fromEntries(
        Object.entries(variables).filter(
          (entry): entry is [string, string] => typeof entry[1] === 'string',
        ),
      );
      const role = properties.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
      const roleLogicalId = role?.['Fn::GetAtt']?.[0];
      if (roleLogicalId === undefined) throw new Error(`${logicalId} has no role of its own`);
      return { handler, logicalId, assetDir, bundle, literalEnvironment, roleLogicalId };
    });
}

/** An IAM policy statement as synthesized. */
export interface PolicyStatement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** The statements of a policy resource; none for any other resource. */
export function statementsOf(resource: TemplateResource): PolicyStatement[] {
  const document = resource.Properties?.PolicyDocument as
    | { Statement?: PolicyStatement[] }
    | undefined;
  return resource.Type === 'AWS::IAM::Policy' ? (document?.Statement ?? []) : [];
}

/** Every statement of the policies attached to a role, identified by its logical id. */
export function statementsOfRole(template: TemplateJson, roleLogicalId: string): PolicyStatement[] {
  return Object.values(template.Resources)
    .filter((resource) =>
      ((resource.Properties?.Roles as unknown[] | undefined) ?? []).some(
        (role) => JSON.stringify(role) === JSON.stringify({ Ref: roleLogicalId }),
      ),
    )
    .flatMap(statementsOf);
}

/** The actions of a statement as a list. */
export function actionsOf(statement: PolicyStatement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** The logical id of a construct's CloudFormation resource, resolved by the stack. */
export function logicalIdOf(stack: Stack, element: CfnElement): string {
  return stack.resolve(element.logicalId) as string;
}

/** The logical id of a handler's function. */
export function functionIdOf(stack: RealtimeStack, handler: HandlerName): string {
  return logicalIdOf(stack, stack.realtime.functions[handler].node.defaultChild as CfnFunction);
}

/** The logical id of a handler's execution role. */
export function roleIdOf(stack: RealtimeStack, handler: HandlerName): string {
  const role = stack.realtime.functions[handler].role;
  if (role === undefined) throw new Error(`${handler} has no role`);
  return logicalIdOf(stack, role.node.defaultChild as CfnRole);
}

/** The template as plain JSON. */
export function templateJson(template: Template): TemplateJson {
  return template.toJSON() as TemplateJson;
}

/** The environment variables of a function, values as synthesized. */
export function environmentOf(template: Template, functionId: string): Record<string, unknown> {
  return variablesOf(templateJson(template), functionId);
}

/** The environment variables of a function in a raw template. */
export function variablesOf(template: TemplateJson, functionId: string): Record<string, unknown> {
  const resource = template.Resources[functionId];
  if (resource === undefined) throw new Error(`no resource ${functionId}`);
  const environment = resource.Properties?.Environment as
    | { Variables?: Record<string, unknown> }
    | undefined;
  return environment?.Variables ?? {};
}

/**
 * Renders an intrinsic value as text: `Ref` becomes `${Name}`, `Fn::GetAtt`
 * `${Name.Attr}`, and `Fn::Join` joins its parts. For comparing ARNs and URLs.
 */
export function renderIntrinsic(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    if (typeof record.Ref === 'string') return `\${${record.Ref}}`;
    const getAtt = record['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `\${${getAtt.join('.')}}`;
    const joined = record['Fn::Join'];
    if (Array.isArray(joined)) {
      const [separator, parts] = joined as [string, unknown[]];
      return parts.map(renderIntrinsic).join(separator);
    }
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

/**
 * The handlers that post to connections (ManageConnections and CALLBACK_URL),
 * restated from the design rather than read from the stack.
 */
export const POSTING_HANDLERS: readonly string[] = [
  'send',
  'typing',
  'direct',
  'sweep',
  'fanout',
  'publish',
  'presence',
];
