/**
 * DynamoDB's JSON wire format of items (`{"S": "a"}`, `{"N": "1"}`, ...), and
 * the two things stream capture needs of it: whether a write changed an item,
 * and how large a record is.
 */

/** An attribute value as the wire carries it; binary values are base64 text. */
export type AttributeValue = Readonly<Record<string, unknown>>;

/** An item, or a key, as the wire carries it. */
export type Item = Readonly<Record<string, AttributeValue>>;

/** A table's key schema, hash key first. */
export type KeySchema = readonly { readonly AttributeName: string; readonly KeyType: string }[];

/** The key attributes of `item`, in key schema order; undefined when one is missing. */
export function keyOf(item: Item, keySchema: KeySchema): Item | undefined {
  const key: Record<string, AttributeValue> = {};
  for (const { AttributeName } of keySchema) {
    const value = item[AttributeName];
    if (value === undefined) return undefined;
    key[AttributeName] = value;
  }
  return key;
}

/** A string naming one item of one table: equal keys give equal strings. */
export function itemId(table: string, key: Item, keySchema: KeySchema): string {
  return JSON.stringify([table, ...keySchema.map(({ AttributeName }) => key[AttributeName])]);
}

/**
 * Whether two items hold the same data. DynamoDB compares numbers by value
 * and sets regardless of order, so `{"N": "1.0"}` equals `{"N": "1"}`.
 */
export function sameItem(a: Item, b: Item): boolean {
  const names = Object.keys(a);
  if (names.length !== Object.keys(b).length) return false;
  return names.every((name) => {
    const left = a[name];
    const right = b[name];
    return left !== undefined && right !== undefined && sameValue(left, right);
  });
}

function sameValue(a: AttributeValue, b: AttributeValue): boolean {
  const [type] = Object.keys(a);
  if (type === undefined || Object.keys(b)[0] !== type) return false;
  const left = a[type];
  const right = b[type];
  switch (type) {
    case 'N':
      return canonicalNumber(String(left)).text === canonicalNumber(String(right)).text;
    case 'SS':
    case 'BS':
      return sameSet(left as string[], right as string[], (value) => value);
    case 'NS':
      return sameSet(left as string[], right as string[], (value) => canonicalNumber(value).text);
    case 'L': {
      const list = left as AttributeValue[];
      const other = right as AttributeValue[];
      return (
        list.length === other.length &&
        list.every((value, index) => {
          const counterpart = other[index];
          return counterpart !== undefined && sameValue(value, counterpart);
        })
      );
    }
    case 'M':
      return sameItem(left as Item, right as Item);
    default:
      return left === right;
  }
}

function sameSet(a: string[], b: string[], canonical: (value: string) => string): boolean {
  const members = new Set(a.map(canonical));
  return (
    members.size === new Set(b.map(canonical)).size &&
    b.every((value) => members.has(canonical(value)))
  );
}

/**
 * The size DynamoDB counts for an item, by its documented rules: names and
 * strings in UTF-8 bytes, binary in bytes, a number one byte per two
 * significant digits plus one, booleans and nulls one byte, lists and maps
 * three bytes plus one per element.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */
export function itemSize(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    size += Buffer.byteLength(name) + valueSize(value);
  }
  return size;
}

function valueSize(value: AttributeValue): number {
  const [type] = Object.keys(value);
  const content = type === undefined ? undefined : value[type];
  switch (type) {
    case 'S':
      return Buffer.byteLength(String(content));
    case 'N':
      return numberSize(String(content));
    case 'B':
      return Buffer.from(String(content), 'base64').length;
    case 'SS':
      return (content as string[]).reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    case 'NS':
      return (content as string[]).reduce((sum, text) => sum + numberSize(text), 0);
    case 'BS':
      return (content as string[]).reduce(
        (sum, text) => sum + Buffer.from(text, 'base64').length,
        0,
      );
    case 'L':
      return (content as AttributeValue[]).reduce(
        (sum, element) => sum + 1 + valueSize(element),
        3,
      );
    case 'M':
      return 3 + Object.keys(content as Item).length + itemSize(content as Item);
    default:
      return 1;
  }
}

function numberSize(text: string): number {
  return Math.ceil(canonicalNumber(text).digits / 2) + 1;
}

/** A number's significant digits and exponent, so equal values give equal text. */
function canonicalNumber(text: string): { text: string; digits: number } {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (match === null) return { text, digits: text.length };
  const [, sign, integer = '', fraction = '', exponent = '0'] = match;
  const digits = `${integer}${fraction}`.replace(/^0+/, '');
  const significant = digits.replace(/0+$/, '');
  if (significant === '') return { text: '0', digits: 1 };
  const power = Number(exponent) - fraction.length + (digits.length - significant.length);
  return { text: `${sign === '-' ? '-' : ''}${significant}e${power}`, digits: significant.length };
}
