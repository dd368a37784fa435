import { describe, expect, it } from 'vitest';
import { itemSize, sameItem } from '../../../local/streams/attribute-values.js';
import {
  recordOf,
  type StreamTable,
  type StreamViewType,
  sequenceNumber,
} from '../../../local/streams/stream-record.js';
import { StreamSequencer } from '../../../local/streams/stream-sequencer.js';

const table = (viewType: StreamViewType): StreamTable => ({
  name: 'Posts',
  keySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
  viewType,
  streamArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/Posts/stream/2000-01-01T00:00:00.000',
});
const change = (
  viewType: StreamViewType,
  oldImage?: Record<string, Record<string, unknown>>,
  newImage?: Record<string, Record<string, unknown>>,
) => ({
  table: table(viewType),
  oldImage,
  newImage,
  position: 7n,
  region: 'us-east-1',
  nowMs: 1_480_452_540_123,
});

describe('stream records', () => {
  it('writes a MODIFY record in the shape Lambda delivers, with both images for NEW_AND_OLD_IMAGES', () => {
    const captured = recordOf(
      change(
        'NEW_AND_OLD_IMAGES',
        { id: { S: '1' }, key: { S: 'value' } },
        { id: { S: '1' }, key: { S: 'updated' } },
      ),
    );

    expect(captured?.record).toEqual({
      eventID: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventName: 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      dynamodb: {
        ApproximateCreationDateTime: 1_480_452_540,
        Keys: { id: { S: '1' } },
        NewImage: { id: { S: '1' }, key: { S: 'updated' } },
        OldImage: { id: { S: '1' }, key: { S: 'value' } },
        SequenceNumber: sequenceNumber(7n),
        // AWS's own example record of this change says 27.
        SizeBytes: 27,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      eventSourceARN: table('NEW_AND_OLD_IMAGES').streamArn,
    });
    expect(captured?.partitionKey).toBe('{"S":"1"}');
  });

  it('names an item that appeared INSERT and one that went REMOVE', () => {
    const inserted = recordOf(change('NEW_AND_OLD_IMAGES', undefined, { id: { S: '2' } }));
    const removed = recordOf(change('NEW_AND_OLD_IMAGES', { id: { S: '2' } }, undefined));

    expect(inserted?.record.eventName).toBe('INSERT');
    expect(inserted?.record.dynamodb.OldImage).toBeUndefined();
    expect(removed?.record.eventName).toBe('REMOVE');
    expect(removed?.record.dynamodb.NewImage).toBeUndefined();
  });

  it('carries only the images its view type asks for', () => {
    const images = (viewType: StreamViewType) => {
      const dynamodb = recordOf(
        change(viewType, { id: { S: '3' }, n: { N: '1' } }, { id: { S: '3' }, n: { N: '2' } }),
      )?.record.dynamodb;
      return [
        dynamodb?.Keys !== undefined,
        dynamodb?.OldImage !== undefined,
        dynamodb?.NewImage !== undefined,
      ];
    };

    expect(images('KEYS_ONLY')).toEqual([true, false, false]);
    expect(images('OLD_IMAGE')).toEqual([true, true, false]);
    expect(images('NEW_IMAGE')).toEqual([true, false, true]);
    expect(images('NEW_AND_OLD_IMAGES')).toEqual([true, true, true]);
  });

  it('writes no record when the data did not change, however its numbers and sets are written', () => {
    const before = {
      id: { S: '4' },
      n: { N: '1.50' },
      tags: { SS: ['a', 'b'] },
      m: { M: { x: { L: [{ N: '10' }] } } },
    };
    const after = {
      m: { M: { x: { L: [{ N: '1e1' }] } } },
      tags: { SS: ['b', 'a'] },
      n: { N: '1.5' },
      id: { S: '4' },
    };

    expect(recordOf(change('NEW_AND_OLD_IMAGES', before, after))).toBeUndefined();
    expect(recordOf(change('NEW_AND_OLD_IMAGES', undefined, undefined))).toBeUndefined();
  });
});

describe('item values', () => {
  it('tells different data apart', () => {
    expect(sameItem({ a: { N: '1' } }, { a: { S: '1' } })).toBe(false);
    expect(sameItem({ a: { SS: ['x'] } }, { a: { SS: ['x', 'y'] } })).toBe(false);
    expect(
      sameItem({ a: { L: [{ N: '1' }, { N: '2' }] } }, { a: { L: [{ N: '2' }, { N: '1' }] } }),
    ).toBe(false);
    expect(sameItem({ a: { S: 'x' } }, { a: { S: 'x' }, b: { NULL: true } })).toBe(false);
  });

  it('sizes items by the documented rules', () => {
    // Name bytes plus: UTF-8 bytes, (significant digits / 2) + 1, 1, 3 + 1 per element.
    expect(itemSize({ s: { S: 'héllo' } })).toBe(1 + 6);
    expect(itemSize({ n: { N: '12345.000' } })).toBe(1 + 4);
    expect(itemSize({ b: { BOOL: true }, z: { NULL: true } })).toBe(2 + 2);
    expect(itemSize({ l: { L: [{ S: 'ab' }, { N: '7' }] } })).toBe(1 + 3 + (1 + 2) + (1 + 2));
  });
});

describe('the stream sequencer', () => {
  it('publishes in reservation order, holding later outcomes until earlier ones settle', () => {
    const published: string[] = [];
    const sequencer = new StreamSequencer<string>((_, item) => published.push(item));
    const first = sequencer.reserve();
    const second = sequencer.reserve();
    const third = sequencer.reserve();

    third.settle('c');
    second.settle(undefined);
    expect(published).toEqual([]);

    first.settle('a');
    expect(published).toEqual(['a', 'c']);
  });
});
