import { type Resolution, resolve, UnresolvableError } from '../assembly/intrinsics.js';
import type { Resource } from '../assembly/stack-model.js';

/**
 * The execution role of each function in a synthesized template, with the
 * policies attached to it in that template: the role's inline `Policies`,
 * `AWS::IAM::Policy` and `AWS::IAM::ManagedPolicy` resources naming it in
 * `Roles`. What the local stack cannot know (an AWS managed policy, a role
 * from outside the template, a statement referring to something with no
 * local value) is reported through `notice`, never guessed.
 */

/** An IAM policy document, intrinsics resolved. */
export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly Record<string, unknown>[] | Record<string, unknown>;
}

/** A policy attached to a role, by the name the template gives it. */
export interface NamedPolicy {
  readonly name: string;
  readonly document: PolicyDocument;
}

/** A function's execution role. */
export interface FunctionRole {
  /** The role's logical id (locally, its name). */
  readonly roleId: string;
  /** `arn:aws:iam::<account>:role/<roleId>`. */
  readonly roleArn: string;
  readonly policies: readonly NamedPolicy[];
}

/** What reading the roles, or the functions' permissions, needs of the template. */
export interface TemplateSources {
  readonly resources: ReadonlyArray<readonly [string, Resource]>;
  readonly resolution: Resolution;
  readonly notice: (line: string) => void;
}

/**
 * The role of each function of the template, by the function's logical id.
 * A function whose role is not a role of the template is absent (and
 * noticed): its calls cannot be checked locally.
 */
export function readFunctionRoles(sources: TemplateSources): Map<string, FunctionRole> {
  const { resources, resolution, notice } = sources;
  const byId = new Map(resources);
  const roles = new Map<string, FunctionRole>();
  for (const [functionId, fn] of resources) {
    if (fn.Type !== 'AWS::Lambda::Function') continue;
    // CloudFormation requires a role; only hand-written templates leave it out.
    if (fn.Properties?.Role === undefined) continue;
    const roleId = getAttId(fn.Properties.Role, 'Arn');
    const role = roleId === undefined ? undefined : byId.get(roleId);
    if (roleId === undefined || role?.Type !== 'AWS::IAM::Role') {
      notice(
        `${functionId}: its role is not a role of this template; its AWS calls are not checked locally`,
      );
      continue;
    }
    const roleArn = String(resolve({ 'Fn::GetAtt': [roleId, 'Arn'] }, resolution));
    const policies: NamedPolicy[] = [];
    const attach = (name: string, document: unknown) => {
      const resolved = resolvedDocument(name, document, resolution, notice);
      if (resolved !== undefined) policies.push({ name, document: resolved });
    };
    const inline = (role.Properties?.Policies ?? []) as {
      PolicyName?: string;
      PolicyDocument?: unknown;
    }[];
    for (const policy of inline) attach(String(policy.PolicyName), policy.PolicyDocument);
    for (const [policyId, policy] of resources) {
      if (policy.Type !== 'AWS::IAM::Policy' && policy.Type !== 'AWS::IAM::ManagedPolicy') continue;
      const attachedTo = (policy.Properties?.Roles ?? []) as unknown[];
      if (!attachedTo.some((ref) => (ref as { Ref?: string }).Ref === roleId)) continue;
      attach(policyId, policy.Properties?.PolicyDocument);
    }
    const managed = (role.Properties?.ManagedPolicyArns ?? []) as unknown[];
    for (const arn of managed) {
      const name = managedPolicyName(arn, resolution);
      const local = resources.find(
        ([id, resource]) => resource.Type === 'AWS::IAM::ManagedPolicy' && id === refId(arn),
      );
      if (local !== undefined) attach(local[0], local[1].Properties?.PolicyDocument);
      else {
        notice(
          `${roleId}: managed policy ${name} is not in the template; what it alone allows is refused locally`,
        );
      }
    }
    roles.set(functionId, { roleId, roleArn, policies });
  }
  return roles;
}

/**
 * The document with its intrinsics resolved, statement by statement: a
 * statement that refers to something with no local value is left out (and
 * noticed), so what it would allow is refused rather than guessed.
 */
function resolvedDocument(
  name: string,
  document: unknown,
  resolution: Resolution,
  notice: (line: string) => void,
): PolicyDocument | undefined {
  const raw = document as { Version?: string; Statement?: unknown } | undefined;
  if (raw?.Statement === undefined) return undefined;
  const statements = Array.isArray(raw.Statement) ? raw.Statement : [raw.Statement];
  const resolved: Record<string, unknown>[] = [];
  for (const [index, statement] of statements.entries()) {
    try {
      const value = resolve(statement, resolution) as Record<string, unknown>;
      const left = intrinsicIn(value);
      if (left !== undefined) throw new UnresolvableError(`${left} has no local value`);
      resolved.push(value);
    } catch (error) {
      if (!(error instanceof UnresolvableError)) throw error;
      notice(`${name}: statement ${index + 1} is not evaluated locally (${error.message})`);
    }
  }
  return { ...(raw.Version === undefined ? {} : { Version: raw.Version }), Statement: resolved };
}

/** The name of an intrinsic left in `value` (one the resolver does not know), if any. */
function intrinsicIn(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'Ref' || key.startsWith('Fn::')) return key;
    const found = intrinsicIn(inner);
    if (found !== undefined) return found;
  }
  return undefined;
}

function getAttId(value: unknown, attribute: string): string | undefined {
  const getAtt = (value as { 'Fn::GetAtt'?: unknown } | undefined)?.['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[1] === attribute) return String(getAtt[0]);
  if (typeof getAtt === 'string' && getAtt.endsWith(`.${attribute}`)) {
    return getAtt.slice(0, -attribute.length - 1);
  }
  return undefined;
}

function refId(value: unknown): string | undefined {
  return (value as { Ref?: string } | undefined)?.Ref;
}

function managedPolicyName(arn: unknown, resolution: Resolution): string {
  try {
    return String(resolve(arn, resolution));
  } catch {
    return JSON.stringify(arn);
  }
}
