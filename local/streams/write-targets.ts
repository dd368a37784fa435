import { type Item, keyOf } from './attribute-values.js';
import type { StreamTable } from './stream-record.js';

/** One item a write request may change. */
export interface WriteTarget {
  readonly table: StreamTable;
  readonly key: Item;
}

/** The items a request may change, or why the local stack cannot capture its changes. */
export type WriteTargets =
  | { readonly kind: 'items'; readonly targets: readonly WriteTarget[] }
  | { readonly kind: 'unsupported'; readonly reason: string };

/** Operations that change items, with where their items are in the request. */
const ITEM_WRITES = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);
/** PartiQL operations: which items they change is in the statement's text. */
const STATEMENTS = new Set(['ExecuteStatement', 'BatchExecuteStatement', 'ExecuteTransaction']);

/** Whether an operation may change items, so its request is worth reading. */
export function maybeWrites(operation: string): boolean {
  return ITEM_WRITES.has(operation) || STATEMENTS.has(operation);
}

/**
 * The items of stream-enabled tables that a request names: PutItem's item,
 * UpdateItem's and DeleteItem's key, each put and delete of BatchWriteItem and
 * each Put, Update and Delete of TransactWriteItems. Tables are named by name
 * or ARN. PartiQL writes to a stream-enabled table are refused: telling their
 * items apart would take a PartiQL parser, and no handler uses them.
 */
export function writeTargets(
  operation: string,
  input: Readonly<Record<string, unknown>>,
  tables: ReadonlyMap<string, StreamTable>,
): WriteTargets {
  const targets: WriteTarget[] = [];
  const add = (tableName: unknown, key: unknown, whole: boolean) => {
    const table = tables.get(tableNameOf(tableName));
    if (table === undefined || typeof key !== 'object' || key === null) return;
    const picked = whole ? keyOf(key as Item, table.keySchema) : (key as Item);
    // A request without its key is invalid; the engine refuses it, nothing changes.
    if (picked !== undefined) targets.push({ table, key: picked });
  };
  switch (operation) {
    case 'PutItem':
      add(input.TableName, input.Item, true);
      break;
    case 'UpdateItem':
    case 'DeleteItem':
      add(input.TableName, input.Key, false);
      break;
    case 'BatchWriteItem':
      for (const [tableName, requests] of Object.entries(
        (input.RequestItems ?? {}) as Record<string, unknown>,
      )) {
        for (const request of Array.isArray(requests) ? requests : []) {
          const { PutRequest, DeleteRequest } = (request ?? {}) as Record<
            string,
            Record<string, unknown>
          >;
          if (PutRequest !== undefined) add(tableName, PutRequest.Item, true);
          if (DeleteRequest !== undefined) add(tableName, DeleteRequest.Key, false);
        }
      }
      break;
    case 'TransactWriteItems':
      for (const entry of Array.isArray(input.TransactItems) ? input.TransactItems : []) {
        const { Put, Update, Delete } = (entry ?? {}) as Record<string, Record<string, unknown>>;
        if (Put !== undefined) add(Put.TableName, Put.Item, true);
        if (Update !== undefined) add(Update.TableName, Update.Key, false);
        if (Delete !== undefined) add(Delete.TableName, Delete.Key, false);
      }
      break;
    default:
      if (STATEMENTS.has(operation) && writesToStreamTable(input, tables)) {
        return {
          kind: 'unsupported',
          reason: `the local stack does not capture stream records of PartiQL writes (${operation}); use PutItem, UpdateItem, DeleteItem, BatchWriteItem or TransactWriteItems`,
        };
      }
  }
  return { kind: 'items', targets };
}

/** A table's name from a `TableName`, which may also be the table's ARN. */
function tableNameOf(value: unknown): string {
  const text = String(value);
  return /^arn:aws[a-z-]*:dynamodb:[^:]*:\d*:table\/([^/]+)$/.exec(text)?.[1] ?? text;
}

function writesToStreamTable(
  input: Readonly<Record<string, unknown>>,
  tables: ReadonlyMap<string, StreamTable>,
): boolean {
  const statements = [
    input.Statement,
    ...(Array.isArray(input.Statements) ? input.Statements : []),
    ...(Array.isArray(input.TransactStatements) ? input.TransactStatements : []),
  ].map((entry) =>
    String(
      typeof entry === 'object' && entry !== null
        ? (entry as { Statement?: unknown }).Statement
        : (entry ?? ''),
    ),
  );
  return statements.some(
    (statement) =>
      !/^\s*select\b/i.test(statement) &&
      [...tables.keys()].some((name) => statement.includes(name)),
  );
}
