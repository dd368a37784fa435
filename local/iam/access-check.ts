import { createHash } from 'node:crypto';
import { runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import type { FunctionRole } from './function-roles.js';

/**
 * Decides, as IAM does, whether a function's AWS call is allowed by the
 * policies of its execution role in the synthesized template. The decision is
 * made by iam-simulate (a maintained implementation of IAM's policy
 * evaluation: actions, resources, wildcards, conditions, explicit denies),
 * not by code of ours.
 */

/** One action on one resource, as IAM authorizes it. */
export interface AccessRequest {
  /** E.g. `dynamodb:PutItem`. */
  readonly action: string;
  /** The resource's ARN. */
  readonly resource: string;
}

/** A call the caller's role does not allow. */
export interface AccessDenial extends AccessRequest {
  /** The function that called, by its construct id (`SendHandler`). */
  readonly functionName: string;
  readonly roleId: string;
  /** True when a statement denies it; false when none allows it. */
  readonly explicit: boolean;
  /** AWS's wording: `User: <session> is not authorized to perform: <action> on resource: <arn> because ...`. */
  readonly message: string;
}

/** A function the local stack runs, as IAM knows its calls. */
export interface Caller {
  readonly functionId: string;
  readonly functionName: string;
  readonly role: FunctionRole;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<function>`, the session Lambda's credentials are for. */
  readonly sessionArn: string;
}

/** Decisions remembered per caller, action and resource; the context never varies locally. */
const MAX_REMEMBERED = 50_000;

/**
 * The access key id the local stack gives `functionId`'s instances: how a
 * signed request names its caller, as Lambda's temporary credentials do.
 */
export function accessKeyIdOf(functionId: string): string {
  const digest = createHash('sha256').update(functionId).digest();
  // Base32 letters and digits, the alphabet of AWS's key ids.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const tail = [...digest.subarray(0, 16)].map((byte) => alphabet[byte % 32]).join('');
  return `ASIA${tail}`;
}

/** The access key id a SigV4-signed request was signed with, if any. */
export function accessKeyIdOfRequest(authorization: string | undefined): string | undefined {
  return /Credential=([A-Z0-9]+)\//.exec(authorization ?? '')?.[1];
}

export class AccessCheck {
  readonly #callers = new Map<string, Caller>();
  readonly #byFunction = new Map<string, Caller>();
  readonly #account: string;
  readonly #decisions = new Map<string, boolean | 'explicit'>();

  /**
   * @param roles each function's role, by the function's logical id
   * @param names each function's construct id, by logical id, for messages
   */
  constructor(
    roles: ReadonlyMap<string, FunctionRole>,
    names: ReadonlyMap<string, string>,
    account: string,
  ) {
    this.#account = account;
    for (const [functionId, role] of roles) {
      const functionName = names.get(functionId) ?? functionId;
      const caller = {
        functionId,
        functionName,
        role,
        sessionArn: `arn:aws:sts::${account}:assumed-role/${role.roleId}/${functionId}`,
      };
      this.#callers.set(accessKeyIdOf(functionId), caller);
      this.#byFunction.set(functionId, caller);
    }
  }

  /**
   * The function a request's access key id belongs to; undefined for any
   * other caller (a test, a script, the AWS CLI with your own credentials),
   * whose requests are not checked: locally they act as the account's administrator.
   */
  callerOf(accessKeyId: string | undefined): Caller | undefined {
    return accessKeyId === undefined ? undefined : this.#callers.get(accessKeyId);
  }

  /** The function of logical id `functionId` as a caller; undefined when its role is not checked. */
  callerFor(functionId: string): Caller | undefined {
    return this.#byFunction.get(functionId);
  }

  /** The first of `requests` the caller's role does not allow, or undefined when it allows them all. */
  check(caller: Caller, requests: readonly AccessRequest[]): AccessDenial | undefined {
    for (const request of requests) {
      const decision = this.#decide(caller, request);
      if (decision === true) continue;
      const explicit = decision === 'explicit';
      const because = explicit
        ? `with an explicit deny in an identity-based policy`
        : `because no identity-based policy allows the ${request.action} action`;
      return {
        ...request,
        functionName: caller.functionName,
        roleId: caller.role.roleId,
        explicit,
        message: `User: ${caller.sessionArn} is not authorized to perform: ${request.action} on resource: ${request.resource} ${because}`,
      };
    }
    return undefined;
  }

  #decide(caller: Caller, request: AccessRequest): boolean | 'explicit' {
    const key = `${caller.functionId}\n${request.action}\n${request.resource}`;
    const known = this.#decisions.get(key);
    if (known !== undefined) return known;
    const result = runUnsafeSimulation(
      {
        identityPolicies: caller.role.policies.map((policy) => ({
          name: policy.name,
          policy: policy.document as never,
        })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
          principal: caller.sessionArn,
          action: request.action,
          resource: { resource: request.resource, accountId: this.#account },
          contextVariables: {
            'aws:PrincipalArn': caller.role.roleArn,
            'aws:PrincipalAccount': this.#account,
            'aws:SecureTransport': 'true',
          },
        },
      },
      {},
    );
    const decision =
      result === 'Allowed' ? true : result === 'ExplicitlyDenied' ? ('explicit' as const) : false;
    if (this.#decisions.size >= MAX_REMEMBERED) this.#decisions.clear();
    this.#decisions.set(key, decision);
    return decision;
  }
}
