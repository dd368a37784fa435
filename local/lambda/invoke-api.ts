import type { IncomingMessage, ServerResponse } from 'node:http';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../assembly/stack-model.js';
import type { Invocation } from '../gateway/invoker.js';
import { readBody } from '../net/read-body.js';

/**
 * Lambda's Invoke API (`POST /2015-03-31/functions/{FunctionName}/invocations`)
 * as AWS documents it, for the functions that invoke others (the fan-out
 * workers) and for services and scripts that publish through the `publish`
 * function. Requests may be signed or not; signatures are not checked locally.
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 */

/** The documented payload limits: 6 MB synchronous, 1 MB asynchronous (`Event`). */
export const INVOKE_LIMITS = { requestResponseBytes: 6 * 1024 * 1024, eventBytes: 1024 * 1024 };

/** What the Invoke API needs of the local stack. */
export interface InvokeApiTarget {
  /** The logical id of the function `name` designates, or undefined when there is none. */
  readonly functionIdOf: (name: string) => string | undefined;
  readonly invoke: (functionId: string, event: unknown) => Promise<Invocation>;
  /** Queues an asynchronous invocation (`Event`), which Lambda runs and retries on its own. */
  readonly queueEvent: (functionId: string, event: unknown) => void;
  /** Where a failed synchronous invocation is reported. */
  readonly log: (line: string) => void;
  /**
   * Whether the caller may `lambda:InvokeFunction` the function of this ARN,
   * as IAM decides; a refusal is HTTP 403 `AccessDeniedException` with its message.
   * @default - every caller may
   */
  readonly authorize?: (functionArn: string) => { message: string } | undefined;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/**
 * Answers an Invoke request; returns false when the request is not one.
 * `RequestResponse` answers 200 with the function's result, or with
 * `X-Amz-Function-Error: Unhandled` and Lambda's error body when it failed;
 * `Event` answers 202 and queues the event, which runs (and is retried) after;
 * `DryRun` answers 204.
 */
export async function handleInvokeRequest(
  target: InvokeApiTarget,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<boolean> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const match = INVOKE_PATH.exec(url.pathname);
  if (match?.[1] === undefined || request.method !== 'POST') return false;

  const name = decodeURIComponent(match[1]);
  const qualifier = url.searchParams.get('Qualifier');
  const functionId = target.functionIdOf(name);
  // IAM decides first, on the function's ARN (as the policy names it), found or not.
  const denial = target.authorize?.(functionArn(functionId ?? name));
  if (denial !== undefined) {
    request.resume();
    return error(response, 403, 'AccessDeniedException', denial.message);
  }
  if (functionId === undefined || (qualifier !== null && qualifier !== '$LATEST')) {
    request.resume();
    return error(response, 404, 'ResourceNotFoundException', `Function not found: ${name}`);
  }
  const invocationType = header(request, 'x-amz-invocation-type') ?? 'RequestResponse';
  if (!['RequestResponse', 'Event', 'DryRun'].includes(invocationType)) {
    request.resume();
    return error(
      response,
      400,
      'InvalidParameterValueException',
      `Unsupported invocation type: ${invocationType}`,
    );
  }
  const limit =
    invocationType === 'Event' ? INVOKE_LIMITS.eventBytes : INVOKE_LIMITS.requestResponseBytes;
  const body = await readBody(request, limit);
  if (body === undefined) {
    return error(
      response,
      413,
      'RequestTooLargeException',
      `Request must be smaller than ${limit} bytes for the InvokeFunction operation`,
    );
  }
  let event: unknown = {};
  if (body.length > 0) {
    try {
      event = JSON.parse(body.toString('utf8'));
    } catch {
      return error(
        response,
        400,
        'InvalidRequestContentException',
        'Could not parse request body into json',
      );
    }
  }

  if (invocationType === 'DryRun') {
    response.writeHead(204).end();
    return true;
  }
  if (invocationType === 'Event') {
    response.writeHead(202, { 'X-Amz-Executed-Version': '$LATEST' }).end();
    target.queueEvent(functionId, event);
    return true;
  }

  const outcome = await target.invoke(functionId, event);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'X-Amz-Executed-Version': '$LATEST',
  };
  if (!outcome.ok) {
    target.log(`${name} failed: ${outcome.error.name}: ${outcome.error.message}`);
    response
      .writeHead(200, { ...headers, 'X-Amz-Function-Error': 'Unhandled' })
      .end(JSON.stringify({ errorType: outcome.error.name, errorMessage: outcome.error.message }));
    return true;
  }
  // A handler that returns nothing answers `null`, as Lambda does.
  response.writeHead(200, headers).end(JSON.stringify(outcome.result ?? null));
  return true;
}

/**
 * The logical id a FunctionName designates: a name (locally, functions are
 * named by their logical id), a full or partial ARN, or the construct id
 * (`PublishHandler`) that scripts use without knowing the logical id.
 */
export function functionIdResolver(
  functions: ReadonlyMap<string, { readonly name: string }>,
): (name: string) => string | undefined {
  return (designation) => {
    // arn:aws:lambda:<region>:<account>:function:<name>[:qualifier] or <account>:function:<name>
    const arn = /^(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:)?\d{12}:function:([^:]+)(?::.+)?$/.exec(
      designation,
    );
    const name = arn?.[1] ?? designation;
    if (functions.has(name)) return name;
    for (const [logicalId, fn] of functions) if (fn.name === name) return logicalId;
    return undefined;
  };
}

/** The unqualified ARN of a function named by logical id, a name or an ARN. */
function functionArn(designation: string): string {
  const unqualified = /^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[^:]+)/.exec(designation);
  return (
    unqualified?.[1] ?? `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${designation}`
  );
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function error(response: ServerResponse, status: number, type: string, message: string): true {
  response
    .writeHead(status, { 'Content-Type': 'application/json', 'x-amzn-ErrorType': type })
    .end(JSON.stringify({ Type: 'User', message }));
  return true;
}
