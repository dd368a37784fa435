import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../net/read-body.js';

/**
 * Secrets Manager's API as AWS documents it, for the secrets the local stack
 * knows: the AWS JSON 1.1 protocol (`POST /`, the operation in `X-Amz-Target:
 * secretsmanager.<Operation>`), `GetSecretValue` and `DescribeSecret` of the
 * current version (`AWSCURRENT`), errors as HTTP 400 with `__type` and
 * `message`. Signatures are not verified locally. `authorize` decides, as IAM
 * does, whether the caller may perform the operation on the secret's ARN.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html
 */

/** A secret of the local stack, holding one text version. */
export interface LocalSecret {
  readonly arn: string;
  /** The name a `SecretId` may give instead of the ARN. */
  readonly name: string;
  readonly value: string;
}

/** What the API needs of the local stack. */
export interface SecretsManagerTarget {
  readonly secrets: readonly LocalSecret[];
  /** The region and account of ARNs formed for a secret asked by a name no secret has. */
  readonly region: string;
  readonly account: string;
  /**
   * Whether the caller may perform `action` (`secretsmanager:GetSecretValue`)
   * on the secret of this ARN, as IAM decides; a refusal is HTTP 400
   * `AccessDeniedException` with its message.
   * @default - every caller may
   */
  readonly authorize?: (action: string, secretArn: string) => { message: string } | undefined;
}

const TARGET_PREFIX = 'secretsmanager.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** The largest request of the operations served: a `SecretId` is at most 2,048 characters. */
const MAX_REQUEST_BYTES = 64 * 1024;
const CURRENT = 'AWSCURRENT';
/** When every local secret was created: fixed, so answers do not change with the stack's start. */
const CREATED_SECONDS = Date.UTC(2000, 0, 1) / 1000;
const NOT_FOUND = "Secrets Manager can't find the specified secret.";

type Operation = (secret: LocalSecret, input: Record<string, unknown>) => Answer;
type Answer = { readonly ok: true; readonly body: object } | ErrorAnswer;
type ErrorAnswer = { readonly ok: false; readonly type: string; readonly message: string };

const OPERATIONS: Readonly<Record<string, { action: string; answer: Operation }>> = {
  GetSecretValue: { action: 'secretsmanager:GetSecretValue', answer: secretValue },
  DescribeSecret: { action: 'secretsmanager:DescribeSecret', answer: description },
};

/**
 * Answers a Secrets Manager request; returns false when the request is not
 * one (not a POST with a `secretsmanager.` target).
 */
export async function handleSecretsManagerRequest(
  target: SecretsManagerTarget,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<boolean> {
  const amzTarget = request.headers['x-amz-target'];
  if (request.method !== 'POST' || typeof amzTarget !== 'string') return false;
  if (!amzTarget.startsWith(TARGET_PREFIX)) return false;

  const operation = OPERATIONS[amzTarget.slice(TARGET_PREFIX.length)];
  if (operation === undefined) {
    request.resume();
    return answer(response, {
      ok: false,
      type: 'UnknownOperationException',
      message: `Unknown operation ${amzTarget}`,
    });
  }
  const input = parsed(await readBody(request, MAX_REQUEST_BYTES));
  if (input === undefined) {
    return answer(response, {
      ok: false,
      type: 'SerializationException',
      message: 'Could not parse the request body as JSON',
    });
  }
  const secretId = input.SecretId;
  if (typeof secretId !== 'string' || secretId === '') {
    return answer(response, {
      ok: false,
      type: 'ValidationException',
      message:
        "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null",
    });
  }
  const secret = target.secrets.find(
    (candidate) =>
      candidate.arn === secretId ||
      candidate.name === secretId ||
      // A partial ARN: the complete one without the `-` and six random characters.
      (secretId.startsWith('arn:') && withoutSuffix(candidate.arn) === secretId),
  );
  // IAM decides first, on the ARN the policy names the secret by, found or not.
  const arn =
    secret?.arn ??
    (secretId.startsWith('arn:')
      ? secretId
      : `arn:aws:secretsmanager:${target.region}:${target.account}:secret:${secretId}`);
  const denial = target.authorize?.(operation.action, arn);
  if (denial !== undefined) {
    return answer(response, { ok: false, type: 'AccessDeniedException', message: denial.message });
  }
  if (secret === undefined) {
    return answer(response, { ok: false, type: 'ResourceNotFoundException', message: NOT_FOUND });
  }
  return answer(response, operation.answer(secret, input));
}

/**
 * A secret's ARN without the `-` and six random characters Secrets Manager
 * appends to its name; an ARN without them stays as it is.
 */
export function withoutSuffix(arn: string): string {
  return arn.replace(/(:secret:.+)-[A-Za-z0-9]{6}$/, '$1');
}

/** The request's JSON object, or undefined when the body is not one. */
function parsed(body: Buffer | undefined): Record<string, unknown> | undefined {
  if (body === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(body.length === 0 ? '{}' : body.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function secretValue(secret: LocalSecret, input: Record<string, unknown>): Answer {
  const versionId = versionIdOf(secret);
  const { VersionId: askedId, VersionStage: askedStage } = input;
  // Only the current version exists locally: any other is not found, as in AWS.
  if (askedId !== undefined && askedId !== versionId) {
    return {
      ok: false,
      type: 'ResourceNotFoundException',
      message: `Secrets Manager can't find the specified secret value for VersionId: ${String(askedId)}`,
    };
  }
  if (askedStage !== undefined && askedStage !== CURRENT) {
    return {
      ok: false,
      type: 'ResourceNotFoundException',
      message: `Secrets Manager can't find the specified secret value for staging label: ${String(askedStage)}`,
    };
  }
  return {
    ok: true,
    body: {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: versionId,
      SecretString: secret.value,
      VersionStages: [CURRENT],
      // JSON 1.1 sends timestamps as epoch seconds.
      CreatedDate: CREATED_SECONDS,
    },
  };
}

function description(secret: LocalSecret): Answer {
  return {
    ok: true,
    body: {
      ARN: secret.arn,
      Name: secret.name,
      RotationEnabled: false,
      CreatedDate: CREATED_SECONDS,
      LastChangedDate: CREATED_SECONDS,
      VersionIdsToStages: { [versionIdOf(secret)]: [CURRENT] },
    },
  };
}

/** The id of the secret's one version: shaped like AWS's (a UUID), the same on every start. */
function versionIdOf(secret: LocalSecret): string {
  const hex = createHash('sha256').update(secret.arn).digest('hex');
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    hex.slice(12, 16),
    hex.slice(16, 20),
    hex.slice(20, 32),
  ].join('-');
}

function answer(response: ServerResponse, outcome: Answer): true {
  const body = outcome.ok ? outcome.body : { __type: outcome.type, message: outcome.message };
  response
    .writeHead(outcome.ok ? 200 : 400, {
      'Content-Type': CONTENT_TYPE,
      'x-amzn-RequestId': crypto.randomUUID(),
    })
    .end(JSON.stringify(body));
  return true;
}
