/** One step of the walk: a value to check, or a container whose members are all checked. */
type Step = { readonly visit: unknown } | { readonly close: object };

/**
 * Why `value` is not a JSON value, or `undefined` when it is one: what
 * `JSON.parse` can produce (null, booleans, finite numbers, strings, arrays
 * and plain objects of those), the only `data` a client can send. Anything
 * else (`undefined`, a function, `NaN`, a `Date`, a `Map`, a cycle) would be
 * stored and delivered as something other than what a hook returned, or not
 * at all. Walks with an explicit stack, as protocol/json.ts serializes: data
 * may nest thousands of levels.
 */
export function jsonValueProblem(value: unknown): string | undefined {
  // Containers being walked: meeting one again inside itself is a cycle.
  // A container met twice side by side is fine: JSON repeats it.
  const open = new Set<object>();
  const steps: Step[] = [{ visit: value }];
  for (let step = steps.pop(); step !== undefined; step = steps.pop()) {
    if ('close' in step) {
      open.delete(step.close);
      continue;
    }
    const item = step.visit;
    if (item === null || typeof item === 'string' || typeof item === 'boolean') continue;
    if (typeof item === 'number') {
      if (Number.isFinite(item)) continue;
      return `it holds ${item}`;
    }
    if (typeof item !== 'object') return `it holds ${article(typeof item)}`;
    if (open.has(item)) return 'it contains itself';
    const members = membersOf(item);
    if (members === undefined) return `it holds ${article(kindOf(item))}`;
    open.add(item);
    steps.push({ close: item });
    for (const member of members) steps.push({ visit: member });
  }
  return undefined;
}

/** An array's elements (holes as `undefined`) or a plain object's values; `undefined` for other objects. */
function membersOf(item: object): readonly unknown[] | undefined {
  if (Array.isArray(item)) return Array.from(item);
  const prototype: unknown = Object.getPrototypeOf(item);
  return prototype === Object.prototype || prototype === null ? Object.values(item) : undefined;
}

function kindOf(item: object): string {
  const { constructor: made }: { constructor?: unknown } = item;
  return typeof made === 'function' && made.name !== '' ? made.name : 'object';
}

function article(noun: string): string {
  if (noun === 'undefined') return noun;
  return /^[aeiou]/i.test(noun) ? `an ${noun}` : `a ${noun}`;
}
