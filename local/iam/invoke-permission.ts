import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { PolicyDocument } from './function-roles.js';

/** API Gateway's service principal, which invokes integrations and authorizers. */
export const API_GATEWAY_PRINCIPAL = 'apigateway.amazonaws.com';

/** An invocation the function's resource-based policy does not allow. */
export interface InvokeDenial {
  /** The service principal that asked (`apigateway.amazonaws.com`). */
  readonly principal: string;
  readonly functionArn: string;
  /** The ARN the service invoked for: a route's or an authorizer's execute-api ARN. */
  readonly sourceArn: string;
  /** Why, for the log: no statement allows it, or the policy could not be evaluated. */
  readonly reason: string;
}

/** What the check needs to know of a function. */
export interface PermissionSubject {
  readonly functionArn: string;
  /** Its resource-based policy; undefined when the template grants it no permission. */
  readonly policy: PolicyDocument | undefined;
}

/**
 * Decides, as Lambda does, whether a service may invoke a function: by the
 * function's resource-based policy (its `AWS::Lambda::Permission`s in the
 * template), for the service's principal and the ARN it invokes on behalf of
 * (`aws:SourceArn`). Evaluated by iam-simulate's validating `runSimulation`,
 * which reads a resource policy's service principal and conditions (its
 * unsafe variant throws on a resource policy).
 */
export class InvokePermissions {
  readonly #subjects: (functionId: string) => PermissionSubject | undefined;
  readonly #account: string;
  // Keyed by function, principal and source ARN, which the template bounds (its
  // routes and authorizers): never by anything a client sends. Promises, so
  // the invocations that arrive before the first decision share it.
  readonly #decisions = new Map<string, Promise<InvokeDenial | undefined>>();

  constructor(subjects: (functionId: string) => PermissionSubject | undefined, account: string) {
    this.#subjects = subjects;
    this.#account = account;
  }

  /** The denial of `principal` invoking `functionId` for `sourceArn`, or undefined when allowed. */
  check(
    functionId: string,
    principal: string,
    sourceArn: string,
  ): Promise<InvokeDenial | undefined> {
    const key = `${functionId}\n${principal}\n${sourceArn}`;
    let decision = this.#decisions.get(key);
    if (decision === undefined) {
      decision = this.#decide(functionId, principal, sourceArn);
      this.#decisions.set(key, decision);
    }
    return decision;
  }

  async #decide(
    functionId: string,
    principal: string,
    sourceArn: string,
  ): Promise<InvokeDenial | undefined> {
    const subject = this.#subjects(functionId);
    const functionArn = subject?.functionArn ?? functionId;
    const denial = (reason: string) => ({ principal, functionArn, sourceArn, reason });
    if (subject === undefined) return denial('it is not a function of the template');
    const result = await runSimulation(
      {
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        // With no policy at all iam-simulate lets a service principal through;
        // Lambda refuses it, as an empty policy does.
        resourcePolicy: subject.policy ?? { Version: '2012-10-17', Statement: [] },
        request: {
          principal,
          action: 'lambda:InvokeFunction',
          resource: { resource: functionArn, accountId: this.#account },
          contextVariables: {
            'aws:SourceArn': sourceArn,
            'aws:SourceAccount': this.#account,
            'aws:SecureTransport': 'true',
          },
        },
      },
      {},
    );
    if (result.resultType === 'error') {
      return denial(`its resource-based policy could not be evaluated: ${result.errors.message}`);
    }
    if (result.overallResult === 'Allowed') return undefined;
    return denial(
      result.overallResult === 'ExplicitlyDenied'
        ? 'a statement of its resource-based policy in the template denies it'
        : subject.policy === undefined
          ? 'the template grants it no AWS::Lambda::Permission'
          : 'no AWS::Lambda::Permission of the template allows it for this source',
    );
  }
}
