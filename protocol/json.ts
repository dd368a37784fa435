/**
 * JSON serialization without recursion. `data` may nest as deep as 16 KiB of
 * brackets allows (about 8,000 levels), and `JSON.stringify` recurses once per
 * level: on Lambda's main-thread stack (under 1 MB) that overflows with a
 * RangeError. This walks the value with an explicit stack instead, and gives
 * the same text as `JSON.stringify` for every value `JSON.parse` can produce.
 * Uses neither Node nor DOM APIs (shared with the client).
 */
export function stringifyJson(value: unknown): string {
  const out: string[] = [];
  const stack: Container[] = [];
  const emit = (item: unknown): void => {
    if (item === null || typeof item !== 'object') {
      out.push(JSON.stringify(item) ?? 'null');
    } else if (typeof (item as { toJSON?: unknown }).toJSON === 'function') {
      out.push(JSON.stringify(item));
    } else if (Array.isArray(item)) {
      out.push('[');
      stack.push({ items: item, index: 0 });
    } else {
      out.push('{');
      const entries = Object.entries(item).filter(([, member]) => serializable(member));
      stack.push({ entries, index: 0 });
    }
  };
  emit(value);
  for (let top = stack.at(-1); top !== undefined; top = stack.at(-1)) {
    if ('items' in top) {
      if (top.index >= top.items.length) {
        out.push(']');
        stack.pop();
        continue;
      }
      if (top.index > 0) out.push(',');
      const item = top.items[top.index++];
      emit(serializable(item) ? item : null);
    } else {
      const entry = top.entries[top.index];
      if (entry === undefined) {
        out.push('}');
        stack.pop();
        continue;
      }
      if (top.index++ > 0) out.push(',');
      out.push(JSON.stringify(entry[0]), ':');
      emit(entry[1]);
    }
  }
  return out.join('');
}

type Container =
  | { readonly items: readonly unknown[]; index: number }
  | { readonly entries: ReadonlyArray<[string, unknown]>; index: number };

/** What JSON.stringify keeps as an object member (it drops these, and nulls them in arrays). */
function serializable(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
}
