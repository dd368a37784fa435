/**
 * Lambda event filtering: the patterns of an event source mapping's
 * `FilterCriteria` and whether a record matches them. A pattern mirrors the
 * record's structure; each leaf is a list of conditions of which one must
 * hold (equal values, `prefix`, `suffix`, `equals-ignore-case`,
 * `anything-but`, `numeric`, `exists`); every field of a pattern must match,
 * and a record matches the criteria when it matches any of its patterns.
 * As with EventBridge, a condition sees only leaf values: `exists` on a field
 * holding an object is false, and a list in the record matches when any
 * element does.
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
 * https://docs.aws.amazon.com/lambda/latest/dg/with-ddb-filtering.html
 */

/** A parsed filter pattern. */
export type FilterPattern = { readonly [field: string]: FilterPattern | readonly unknown[] };

/** A pattern Lambda would refuse, or one the local stack does not know. */
export class FilterPatternError extends Error {
  override readonly name = 'FilterPatternError';
  readonly code = 'filter_pattern_invalid';
}

const NUMERIC_OPERATORS = new Set(['=', '<', '<=', '>', '>=']);

/** Parses and checks a filter's `Pattern` string. */
export function parseFilterPattern(text: string): FilterPattern {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new FilterPatternError(`pattern is not JSON: ${text}`, { cause });
  }
  checkPattern(parsed, text);
  return parsed as FilterPattern;
}

/** Whether `event` matches `pattern`. */
export function matchesPattern(pattern: FilterPattern, event: unknown): boolean {
  return Object.entries(pattern).every(([field, rule]) => {
    const value = isObject(event) ? event[field] : undefined;
    return Array.isArray(rule)
      ? matchesRule(rule, value)
      : matchesPattern(rule as FilterPattern, value);
  });
}

/** Whether `event` matches any pattern; no patterns at all lets every event through. */
export function matchesAny(patterns: readonly FilterPattern[], event: unknown): boolean {
  return patterns.length === 0 || patterns.some((pattern) => matchesPattern(pattern, event));
}

/**
 * Whether a record of an item with these `Keys` could match any pattern, for
 * a pattern that constrains `dynamodb.Keys` rules out every record whose keys
 * do not match that part. False means no record of the item can ever match.
 */
export function keysCouldMatch(
  patterns: readonly FilterPattern[],
  keys: Readonly<Record<string, unknown>>,
): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((pattern) => {
    const dynamodb = pattern.dynamodb;
    const keyPattern =
      dynamodb === undefined || Array.isArray(dynamodb)
        ? undefined
        : (dynamodb as FilterPattern).Keys;
    if (keyPattern === undefined || Array.isArray(keyPattern)) return true;
    return matchesPattern(keyPattern as FilterPattern, keys);
  });
}

function matchesRule(conditions: readonly unknown[], value: unknown): boolean {
  // Only leaves count: a field holding an object is, to a condition, absent.
  const leaves = Array.isArray(value)
    ? value.filter((element) => !isObject(element))
    : value === undefined || isObject(value)
      ? []
      : [value];
  return conditions.some((condition) => {
    if (isObject(condition) && 'exists' in condition) {
      return condition.exists === leaves.length > 0;
    }
    return leaves.some((leaf) => matchesCondition(condition, leaf));
  });
}

function matchesCondition(condition: unknown, leaf: unknown): boolean {
  if (!isObject(condition)) return sameLiteral(condition, leaf);
  const [operator] = Object.keys(condition);
  const operand = operator === undefined ? undefined : condition[operator];
  switch (operator) {
    case 'prefix':
      return isObject(operand)
        ? typeof leaf === 'string' &&
            leaf.toLowerCase().startsWith(String(operand['equals-ignore-case']).toLowerCase())
        : typeof leaf === 'string' && leaf.startsWith(String(operand));
    case 'suffix':
      return isObject(operand)
        ? typeof leaf === 'string' &&
            leaf.toLowerCase().endsWith(String(operand['equals-ignore-case']).toLowerCase())
        : typeof leaf === 'string' && leaf.endsWith(String(operand));
    case 'equals-ignore-case':
      return typeof leaf === 'string' && leaf.toLowerCase() === String(operand).toLowerCase();
    case 'anything-but':
      if (isObject(operand)) return !matchesCondition(operand, leaf);
      return (Array.isArray(operand) ? operand : [operand]).every(
        (excluded) => !sameLiteral(excluded, leaf),
      );
    case 'numeric':
      return typeof leaf === 'number' && inRange(operand as readonly unknown[], leaf);
    default:
      return false;
  }
}

function sameLiteral(literal: unknown, leaf: unknown): boolean {
  return literal === leaf;
}

function inRange(comparisons: readonly unknown[], value: number): boolean {
  for (let index = 0; index < comparisons.length; index += 2) {
    const bound = Number(comparisons[index + 1]);
    const holds = {
      '=': value === bound,
      '<': value < bound,
      '<=': value <= bound,
      '>': value > bound,
      '>=': value >= bound,
    }[String(comparisons[index])];
    if (!holds) return false;
  }
  return true;
}

function checkPattern(pattern: unknown, text: string): void {
  if (!isObject(pattern) || Object.keys(pattern).length === 0) {
    throw new FilterPatternError(`a pattern must be a non-empty JSON object: ${text}`);
  }
  for (const [field, rule] of Object.entries(pattern)) {
    if (field.startsWith('$')) {
      throw new FilterPatternError(`"${field}" is not a Lambda filter operator: ${text}`);
    }
    if (!Array.isArray(rule)) {
      checkPattern(rule, text);
      continue;
    }
    if (rule.length === 0) throw new FilterPatternError(`"${field}" has no condition: ${text}`);
    for (const condition of rule) checkCondition(condition, field, text);
  }
}

function checkCondition(condition: unknown, field: string, text: string): void {
  if (!isObject(condition)) {
    if (typeof condition === 'object' && condition !== null) {
      throw new FilterPatternError(`"${field}": a list is not a condition: ${text}`);
    }
    return;
  }
  const [operator, ...more] = Object.keys(condition);
  const operand = operator === undefined ? undefined : condition[operator];
  const fail = (why: string) => {
    throw new FilterPatternError(`"${field}": ${why}: ${text}`);
  };
  if (operator === undefined || more.length > 0) fail('a condition has exactly one operator');
  switch (operator) {
    case 'prefix':
    case 'suffix':
      if (
        typeof operand !== 'string' &&
        !(isObject(operand) && typeof operand['equals-ignore-case'] === 'string')
      ) {
        fail(`${operator} takes a string`);
      }
      return;
    case 'equals-ignore-case':
      if (typeof operand !== 'string') fail('equals-ignore-case takes a string');
      return;
    case 'exists':
      if (typeof operand !== 'boolean') fail('exists takes true or false');
      return;
    case 'anything-but':
      if (isObject(operand)) {
        checkCondition(operand, field, text);
        const [inner] = Object.keys(operand);
        if (!['prefix', 'suffix', 'equals-ignore-case'].includes(inner ?? '')) {
          fail('anything-but takes values, a prefix, a suffix or equals-ignore-case');
        }
      }
      return;
    case 'numeric': {
      const comparisons = Array.isArray(operand) ? operand : [];
      const pairs = comparisons.length / 2;
      const valid =
        (pairs === 1 || pairs === 2) &&
        comparisons.every((item, index) =>
          index % 2 === 0
            ? NUMERIC_OPERATORS.has(String(item))
            : typeof item === 'number' && Number.isFinite(item),
        );
      if (!valid) fail('numeric takes one or two [operator, number] pairs');
      return;
    }
    default:
      fail(`${operator} is not a Lambda filter operator`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
