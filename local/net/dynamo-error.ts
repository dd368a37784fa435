import type { ServerResponse } from 'node:http';

/**
 * Answers a DynamoDB request with an error as DynamoDB's JSON protocol does:
 * the body (`__type` and the message) with its headers. Used where the local
 * stack refuses a request before it reaches the engine.
 */
export function answerDynamoError(
  response: ServerResponse,
  status: number,
  body: Readonly<Record<string, string>>,
): void {
  const text = JSON.stringify(body);
  response
    .writeHead(status, {
      'Content-Type': 'application/x-amz-json-1.0',
      'Content-Length': Buffer.byteLength(text),
      'x-amzn-RequestId': crypto.randomUUID(),
    })
    .end(text);
}
