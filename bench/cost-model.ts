/**
 * Dollars per million sends from measured call and unit counts and AWS's
 * published on-demand prices. docs/cost-model.md explains each term.
 */

/** us-east-1 list prices, first tier, as published on the AWS pricing pages. */
export const PRICES = {
  /** The date these were taken from the pricing pages. */
  asOf: '2026-11-22',
  region: 'us-east-1',
  /** API Gateway WebSocket: per million messages (each metered in 32 KB increments), first billion. */
  apiGatewayMessage: 1.0 / 1e6,
  /** API Gateway WebSocket: per million connection minutes. */
  apiGatewayConnectionMinute: 0.25 / 1e6,
  /** Lambda: per million requests. */
  lambdaRequest: 0.2 / 1e6,
  /** Lambda on arm64: per GB-second. */
  lambdaGbSecond: 0.0000133334,
  /** DynamoDB on demand: per million write request units (prices of 1 November 2024 on). */
  dynamoWriteUnit: 0.625 / 1e6,
  /** DynamoDB on demand: per million read request units. */
  dynamoReadUnit: 0.125 / 1e6,
} as const;

/** API Gateway meters messages in 32 KB increments. */
export const MESSAGE_INCREMENT_BYTES = 32 * 1024;

/** What one send cost, measured. */
export interface SendMeasurement {
  /** Members the message reaches (the sender's connections included). */
  readonly deliveries: number;
  /** Bytes of each delivered frame. */
  readonly frameBytes: number;
  /** Bytes of the client's request frame. */
  readonly requestBytes: number;
  /** Replies to the sender (the ack): 1 for ours, 0 for the reference. */
  readonly replies: number;
  /** Lambda invocations, their mean billed duration and memory. */
  readonly lambdaInvocations: number;
  readonly lambdaMs: number;
  readonly lambdaMemoryMb: number;
  readonly readUnits: number;
  readonly writeUnits: number;
}

/** Dollars per million sends, by service, with the floor API Gateway sets. */
export interface SendCost {
  readonly apiGateway: number;
  readonly lambda: number;
  readonly dynamo: number;
  readonly total: number;
  /** What the messages alone cost at API Gateway's price: the request in and one post per member. */
  readonly floor: number;
  /** `total / floor`: 1 would be no overhead at all. */
  readonly overFloor: number;
}

const messages = (bytes: number) => Math.max(1, Math.ceil(bytes / MESSAGE_INCREMENT_BYTES));

/** The cost of a million sends measured like `m`. */
export function costPerMillionSends(m: SendMeasurement): SendCost {
  const floorMessages = messages(m.requestBytes) + m.deliveries * messages(m.frameBytes);
  const apiMessages = floorMessages + m.replies;
  const apiGateway = apiMessages * PRICES.apiGatewayMessage * 1e6;
  const gbSeconds = m.lambdaInvocations * (m.lambdaMs / 1000) * (m.lambdaMemoryMb / 1024);
  const lambda =
    (m.lambdaInvocations * PRICES.lambdaRequest + gbSeconds * PRICES.lambdaGbSecond) * 1e6;
  const dynamo =
    (m.readUnits * PRICES.dynamoReadUnit + m.writeUnits * PRICES.dynamoWriteUnit) * 1e6;
  const total = apiGateway + lambda + dynamo;
  const floor = floorMessages * PRICES.apiGatewayMessage * 1e6;
  return { apiGateway, lambda, dynamo, total, floor, overFloor: total / floor };
}
