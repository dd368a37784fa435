import { randomUUID } from 'node:crypto';
import { type Item, itemSize, type KeySchema, keyOf, sameItem } from './attribute-values.js';

/** What a table's stream writes of a changed item (CloudFormation `StreamViewType`). */
export type StreamViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';

/** Every {@link StreamViewType}. */
export const STREAM_VIEW_TYPES: readonly StreamViewType[] = [
  'KEYS_ONLY',
  'NEW_IMAGE',
  'OLD_IMAGE',
  'NEW_AND_OLD_IMAGES',
];

/** A stream-enabled table as stream capture sees it. */
export interface StreamTable {
  /** The table's name in the engine (locally its logical id). */
  readonly name: string;
  readonly keySchema: KeySchema;
  readonly viewType: StreamViewType;
  /** The stream's ARN, the records' `eventSourceARN`. */
  readonly streamArn: string;
}

/**
 * A DynamoDB stream record as Lambda delivers it to a function, attribute
 * values in DynamoDB JSON.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
 */
export interface DynamoDBStreamRecord {
  readonly eventID: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly eventVersion: '1.1';
  readonly eventSource: 'aws:dynamodb';
  readonly awsRegion: string;
  readonly dynamodb: {
    /** Seconds since the epoch, rounded down. */
    readonly ApproximateCreationDateTime: number;
    readonly Keys: Item;
    readonly NewImage?: Item;
    readonly OldImage?: Item;
    readonly SequenceNumber: string;
    readonly SizeBytes: number;
    readonly StreamViewType: StreamViewType;
  };
  readonly eventSourceARN: string;
}

/** A record captured from a write, with what delivery needs to know of it. */
export interface CapturedRecord {
  readonly table: string;
  readonly record: DynamoDBStreamRecord;
  /** The record's sequence number as a number, for ordering. */
  readonly sequence: bigint;
  /** The item's partition key value: records of one stay in one lane, in order. */
  readonly partitionKey: string;
  /** When the write was answered, in epoch milliseconds. */
  readonly capturedAtMs: number;
  /** Bytes of the record's JSON, towards Lambda's 6 MB payload. */
  readonly payloadBytes: number;
}

// DynamoDB's sequence numbers are 21 to 40 digits
// (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_StreamRecord.html).
const FIRST_SEQUENCE = 10n ** 20n;

/** The `SequenceNumber` of the record with this position in the stream. */
export function sequenceNumber(position: bigint): string {
  return String(FIRST_SEQUENCE + position);
}

/** What a write did to one item. */
export interface ItemChange {
  readonly table: StreamTable;
  readonly oldImage: Item | undefined;
  readonly newImage: Item | undefined;
  /** The record's position in the stream. */
  readonly position: bigint;
  readonly region: string;
  readonly nowMs: number;
}

/**
 * The stream record of a change, or undefined when the item did not change:
 * "DynamoDB Streams does not write a stream record if PutItem or UpdateItem
 * does not change any data", and deleting a missing item changes nothing.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html
 */
export function recordOf(change: ItemChange): CapturedRecord | undefined {
  const { table, oldImage, newImage } = change;
  const image = newImage ?? oldImage;
  if (image === undefined) return undefined;
  if (oldImage !== undefined && newImage !== undefined && sameItem(oldImage, newImage)) {
    return undefined;
  }
  const keys = keyOf(image, table.keySchema);
  if (keys === undefined) return undefined;
  const eventName =
    oldImage === undefined ? 'INSERT' : newImage === undefined ? 'REMOVE' : 'MODIFY';
  const view = table.viewType;
  const withNew = view === 'NEW_IMAGE' || view === 'NEW_AND_OLD_IMAGES' ? newImage : undefined;
  const withOld = view === 'OLD_IMAGE' || view === 'NEW_AND_OLD_IMAGES' ? oldImage : undefined;
  const record: DynamoDBStreamRecord = {
    eventID: randomUUID().replaceAll('-', ''),
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: change.region,
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(change.nowMs / 1000),
      Keys: keys,
      ...(withNew === undefined ? {} : { NewImage: withNew }),
      ...(withOld === undefined ? {} : { OldImage: withOld }),
      SequenceNumber: sequenceNumber(change.position),
      // The stream record's size: its keys and the images it carries.
      SizeBytes:
        itemSize(keys) +
        (withNew === undefined ? 0 : itemSize(withNew)) +
        (withOld === undefined ? 0 : itemSize(withOld)),
      StreamViewType: view,
    },
    eventSourceARN: table.streamArn,
  };
  const hashKey = table.keySchema[0]?.AttributeName ?? '';
  return {
    table: table.name,
    record,
    sequence: FIRST_SEQUENCE + change.position,
    partitionKey: JSON.stringify(keys[hashKey]),
    capturedAtMs: change.nowMs,
    payloadBytes: Buffer.byteLength(JSON.stringify(record)),
  };
}
