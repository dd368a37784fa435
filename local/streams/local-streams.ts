import {
  type EventSourceMappingModel,
  LOCAL_REGION,
  type StackModel,
} from '../assembly/stack-model.js';
import type { Invoker } from '../gateway/invoker.js';
import { keysCouldMatch } from '../lambda/event-filter.js';
import { StreamEventSourceMapping } from '../lambda/event-source-mapping.js';
import type { Item } from './attribute-values.js';
import { type DynamoStreamProxy, startDynamoStreamProxy } from './dynamo-stream-proxy.js';
import type { StreamTable } from './stream-record.js';

/** What the stack's streams need. */
export interface LocalStreamsOptions {
  readonly model: StackModel;
  /** The engine's endpoint. */
  readonly engine: string;
  readonly invoke: Invoker;
  readonly log: (line: string) => void;
  /** The wait before a failed batch's first retry; it doubles after each. */
  readonly retryDelayMs: number;
  /** The longest wait between retries of a batch. */
  readonly retryMaxDelayMs: number;
}

/** An enabled event source mapping and its runner. */
interface Reader {
  readonly mapping: EventSourceMappingModel;
  readonly runner: StreamEventSourceMapping;
}

/** The tables' streams and the event source mappings that read them, running. */
export interface LocalStreams {
  /**
   * Where the functions' DynamoDB requests go: the stream capture proxy, or
   * the engine itself when no enabled mapping reads a stream.
   */
  readonly endpoint: string;
  /** Whether a write is being captured or a record waits for delivery. */
  readonly busy: boolean;
  /** Resolves once every record captured so far is delivered or skipped. */
  idle(): Promise<void>;
  /** Stops delivering (cutting waits short); resolves once invocations in flight returned. */
  stop(): Promise<void>;
  /** Closes the capture proxy; call it once the functions are stopped. */
  close(): Promise<void>;
}

/**
 * Starts DynamoDB Streams and the template's event source mappings for the
 * stack. Only a table that an enabled mapping reads is captured (no one
 * could see another's records), and of it only the items whose keys some
 * mapping's filters could match: a filter on `dynamodb.Keys` decides before
 * the write, so every other write passes through at no cost.
 */
export async function startLocalStreams(options: LocalStreamsOptions): Promise<LocalStreams> {
  const { model, log } = options;
  const readers = new Map<string, Reader[]>();
  for (const mapping of model.eventSourceMappings) {
    if (!mapping.enabled) {
      log(`${mapping.logicalId} is disabled (Enabled: false); not run`);
      continue;
    }
    const runner = new StreamEventSourceMapping({
      mapping,
      functionArn: model.resolution.attributes[`${mapping.functionId}.Arn`] ?? mapping.functionId,
      invoke: options.invoke,
      log,
      retryDelayMs: options.retryDelayMs,
      retryMaxDelayMs: options.retryMaxDelayMs,
    });
    readers.set(mapping.tableId, [...(readers.get(mapping.tableId) ?? []), { mapping, runner }]);
  }
  const runners = [...readers.values()].flat().map(({ runner }) => runner);
  const tables: StreamTable[] = model.tables.flatMap((table) => {
    const [reader] = readers.get(table.logicalId) ?? [];
    if (reader === undefined || table.streamViewType === undefined) return [];
    return [
      {
        name: table.logicalId,
        keySchema: table.keySchema,
        viewType: table.streamViewType,
        streamArn: reader.mapping.eventSourceArn,
      },
    ];
  });
  let proxy: DynamoStreamProxy | undefined;
  if (tables.length > 0) {
    proxy = await startDynamoStreamProxy({
      target: options.engine,
      tables,
      wanted: (table, key) =>
        (readers.get(table.name) ?? []).some(({ mapping }) => keysMayMatch(mapping, key)),
      publish: (captured) => {
        for (const { runner } of readers.get(captured.table) ?? []) runner.push(captured);
      },
      region: LOCAL_REGION,
      log,
    });
  }
  const parts = [...(proxy === undefined ? [] : [proxy]), ...runners];
  return {
    endpoint: proxy?.endpoint ?? options.engine,
    get busy() {
      return parts.some((part) => part.busy);
    },
    async idle() {
      // A delivered batch may write again, and a capture may feed a mapping.
      while (parts.some((part) => part.busy)) {
        await Promise.all(parts.map((part) => part.idle()));
      }
    },
    async stop() {
      await Promise.all(runners.map((runner) => runner.stop()));
    },
    async close() {
      await proxy?.close();
    },
  };
}

/**
 * Whether records of an item with this key could pass a mapping's filters.
 * Keys are compared as the request gives them, which is exact for strings;
 * numbers and binary could be written differently from how DynamoDB stores
 * them, so an item with such a key is always captured.
 */
function keysMayMatch(mapping: EventSourceMappingModel, key: Item): boolean {
  if (Object.values(key).some((value) => !('S' in value))) return true;
  return keysCouldMatch(mapping.filters, key);
}
