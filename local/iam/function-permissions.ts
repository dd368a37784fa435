import { type Resolution, resolveString, UnresolvableError } from '../assembly/intrinsics.js';
import type { PolicyDocument, TemplateSources } from './function-roles.js';

/**
 * The resource-based policy of each function in a synthesized template, as
 * Lambda builds it from the template's `AWS::Lambda::Permission` resources:
 * one statement per permission, its `SourceArn` and `SourceAccount` turned
 * into the conditions Lambda writes (`ArnLike` on `AWS:SourceArn`,
 * `StringEquals` on `AWS:SourceAccount`). A permission the local stack cannot
 * read (a reference with no local value, a version or alias, an Alexa event
 * source token) is left out and reported through `notice`: what it alone
 * allows is refused locally rather than guessed.
 * https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html
 */

/**
 * The resource-based policy of each function of the template that has a
 * permission, by the function's logical id; a function absent from the map
 * has none, so no service may invoke it.
 */
export function readFunctionPermissions(sources: TemplateSources): Map<string, PolicyDocument> {
  const { resources, resolution, notice } = sources;
  const functionIds = new Set(
    resources.filter(([, resource]) => resource.Type === 'AWS::Lambda::Function').map(([id]) => id),
  );
  const statements = new Map<string, Record<string, unknown>[]>();
  for (const [permissionId, permission] of resources) {
    if (permission.Type !== 'AWS::Lambda::Permission') continue;
    let read: { functionId: string; statement: Record<string, unknown> } | undefined;
    try {
      read = statementOf(permissionId, permission.Properties ?? {}, resolution, functionIds);
    } catch (error) {
      if (!(error instanceof UnresolvableError)) throw error;
      notice(`${permissionId}: not evaluated locally (${error.message})`);
    }
    if (read === undefined) continue;
    const own = statements.get(read.functionId) ?? [];
    own.push(read.statement);
    statements.set(read.functionId, own);
  }
  return new Map(
    [...statements].map(([functionId, statement]) => [
      functionId,
      { Version: '2012-10-17', Statement: statement },
    ]),
  );
}

/** The statement Lambda adds to the policy of the function a permission names. */
function statementOf(
  permissionId: string,
  properties: Record<string, unknown>,
  resolution: Resolution,
  functionIds: ReadonlySet<string>,
): { functionId: string; statement: Record<string, unknown> } | undefined {
  const text = (name: string) =>
    properties[name] === undefined ? undefined : resolveString(properties[name], resolution);
  const designation = text('FunctionName') ?? '';
  // arn:aws:lambda:<region>:<account>:function:<name>[:qualifier], or a name (locally, the logical id).
  const [, name, qualifier] =
    /^(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?([^:]+)(?::(.+))?$/.exec(designation) ??
    [];
  if (name === undefined || !functionIds.has(name)) return undefined;
  if (qualifier !== undefined) {
    throw new UnresolvableError(
      `it is for ${qualifier}, a version or alias the local stack does not run`,
    );
  }
  if (properties.EventSourceToken !== undefined) {
    throw new UnresolvableError('EventSourceToken (Alexa) cannot be checked');
  }
  const sourceArn = text('SourceArn');
  const sourceAccount = text('SourceAccount');
  const orgId = text('PrincipalOrgID');
  const urlAuthType = text('FunctionUrlAuthType');
  const stringEquals = {
    ...(sourceAccount === undefined ? {} : { 'AWS:SourceAccount': sourceAccount }),
    ...(orgId === undefined ? {} : { 'aws:PrincipalOrgID': orgId }),
    ...(urlAuthType === undefined ? {} : { 'lambda:FunctionUrlAuthType': urlAuthType }),
  };
  const condition = {
    ...(sourceArn === undefined ? {} : { ArnLike: { 'AWS:SourceArn': sourceArn } }),
    ...(Object.keys(stringEquals).length === 0 ? {} : { StringEquals: stringEquals }),
  };
  return {
    functionId: name,
    statement: {
      Sid: permissionId,
      Effect: 'Allow',
      Principal: principalOf(text('Principal') ?? ''),
      Action: text('Action') ?? 'lambda:InvokeFunction',
      Resource: resolveString({ 'Fn::GetAtt': [name, 'Arn'] }, resolution),
      ...(Object.keys(condition).length === 0 ? {} : { Condition: condition }),
    },
  };
}

/** A permission's `Principal` as Lambda writes it in the policy: a service, an account, an ARN or anyone. */
function principalOf(principal: string): unknown {
  if (principal === '*') return '*';
  if (/^\d{12}$/.test(principal)) return { AWS: `arn:aws:iam::${principal}:root` };
  if (principal.startsWith('arn:')) return { AWS: principal };
  return { Service: principal };
}
