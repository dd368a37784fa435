import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { stringifyJson } from '../protocol/json.js';
import type { User } from '../protocol/messages.js';
import type {
  PublishedToRoom,
  PublishedToUser,
  PublishInput,
  PublishResult,
} from '../protocol/publish.js';
import { PublishError, PublishFunctionError } from './errors.js';

/** How to reach the publish function. */
export interface PublisherOptions {
  /** Its name or ARN: the stack's `PublishFunctionName` or `PublishFunctionArn` output. */
  readonly functionName: string;
  /**
   * The client to invoke it with; one client serves every call, so create the
   * publisher once.
   * @default - a `LambdaClient` configured from the environment (region, credentials)
   */
  readonly client?: LambdaClient;
}

/** Sends to rooms and users from another service, through the stack's publish function. */
export interface Publisher {
  /**
   * Stores a message with the room's next seq and delivers it to every member.
   * @example await publisher.publishToRoom('lobby', { text: 'Deploy finished' });
   */
  publishToRoom(room: string, data: unknown, from?: User): Promise<PublishedToRoom>;
  /**
   * Delivers a `direct` frame to every open connection of a user.
   * @example await publisher.publishToUser('alice', { text: 'Your export is ready' });
   */
  publishToUser(userId: string, data: unknown, from?: User): Promise<PublishedToUser>;
  /** Publishes a payload as the function takes it (exactly one of `room` or `user`). */
  publish(input: PublishInput): Promise<PublishedToRoom | PublishedToUser>;
}

/**
 * A publisher that invokes the publish function synchronously and resolves
 * what it did. Rejects with a {@link PublishError} when the function refuses
 * the input (branch on its `code`), a {@link PublishFunctionError} when the
 * function failed, and the SDK's own error when it could not be invoked
 * (permissions, throttling, network).
 * @example
 * const publisher = createPublisher({ functionName: process.env.PUBLISH_FUNCTION_NAME });
 * const { seq, delivered } = await publisher.publishToRoom('lobby', { text: 'hi' });
 */
export function createPublisher(options: PublisherOptions): Publisher {
  const client = options.client ?? new LambdaClient({});

  async function publish(input: PublishInput): Promise<PublishedToRoom | PublishedToUser> {
    const response = await client.send(
      new InvokeCommand({
        FunctionName: options.functionName,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(stringifyJson(input)),
      }),
    );
    const text = response.Payload === undefined ? '' : new TextDecoder().decode(response.Payload);
    if (response.FunctionError !== undefined) throw functionError(response.FunctionError, text);
    const result = parseResult(text);
    if (!result.ok) throw new PublishError(result.error.code, result.error.message);
    return result;
  }

  return {
    publish,
    publishToRoom: (room, data, from) =>
      publish(withFrom({ room, data }, from)) as Promise<PublishedToRoom>,
    publishToUser: (userId, data, from) =>
      publish(withFrom({ user: userId, data }, from)) as Promise<PublishedToUser>,
  };
}

function withFrom<T extends PublishInput>(input: T, from: User | undefined): T {
  return from === undefined ? input : { ...input, from };
}

function parseResult(text: string): PublishResult {
  try {
    return JSON.parse(text) as PublishResult;
  } catch (error) {
    throw new PublishFunctionError(
      'Unhandled',
      undefined,
      'The publish function answered no JSON.',
      {
        cause: error,
      },
    );
  }
}

/** Lambda's error body is `{ errorType, errorMessage, trace? }`; anything else is kept as text. */
function functionError(kind: string, text: string): PublishFunctionError {
  let body: { errorType?: unknown; errorMessage?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Not JSON: the text itself is the best description there is.
  }
  const type = typeof body.errorType === 'string' ? body.errorType : undefined;
  const detail = typeof body.errorMessage === 'string' ? body.errorMessage : text.slice(0, 200);
  return new PublishFunctionError(kind, type, `The publish function failed (${kind}): ${detail}`);
}
