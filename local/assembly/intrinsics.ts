/**
 * Resolves the CloudFormation intrinsics the local stack needs (Ref,
 * Fn::GetAtt, Fn::Join, Fn::Sub) against local values. Anything it cannot
 * resolve is an error naming the reference, never a silent placeholder.
 */

/** Local values for references: `Ref` by logical id or pseudo parameter, `GetAtt` as `id.Attr`. */
export interface Resolution {
  readonly refs: Readonly<Record<string, string>>;
  readonly attributes: Readonly<Record<string, string>>;
}

/** An intrinsic that has no local value. */
export class UnresolvableError extends Error {
  override readonly name = 'UnresolvableError';
  readonly code = 'unresolvable';
}

/** Resolves `value` to a string. */
export function resolveString(value: unknown, resolution: Resolution): string {
  const resolved = resolve(value, resolution);
  if (typeof resolved !== 'string' && typeof resolved !== 'number') {
    throw new UnresolvableError(`expected a string, got ${JSON.stringify(value)}`);
  }
  return String(resolved);
}

/** Resolves every intrinsic inside `value`, returning plain JSON. */
export function resolve(value: unknown, resolution: Resolution): unknown {
  if (Array.isArray(value)) return value.map((item) => resolve(item, resolution));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  const [key, argument] = entries[0] ?? [];
  if (entries.length === 1 && key !== undefined && key in INTRINSICS) {
    return INTRINSICS[key]?.(argument, resolution);
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v, resolution)]));
}

const INTRINSICS: Record<string, (argument: unknown, resolution: Resolution) => unknown> = {
  Ref: (name, { refs }) => lookup(refs, String(name), `Ref ${String(name)}`),
  'Fn::GetAtt': (argument, { attributes }) => {
    const [id, attribute] = Array.isArray(argument) ? argument : String(argument).split('.');
    return lookup(attributes, `${id}.${attribute}`, `Fn::GetAtt ${id}.${attribute}`);
  },
  'Fn::Join': (argument, resolution) => {
    const [separator, parts] = argument as [string, unknown[]];
    return parts.map((part) => resolveString(part, resolution)).join(separator);
  },
  'Fn::Sub': (argument, resolution) => {
    const [text, variables] = Array.isArray(argument)
      ? (argument as [string, Record<string, unknown>])
      : [String(argument), {}];
    // `${!Literal}` is CloudFormation's escape for a literal `${Literal}`.
    return text.replace(/\$\{(!?)([^}]+)\}/g, (_, escaped: string, name: string) => {
      if (escaped) return `\${${name}}`;
      if (name in variables) return resolveString(variables[name], resolution);
      return name.includes('.')
        ? lookup(resolution.attributes, name, `Fn::Sub \${${name}}`)
        : lookup(resolution.refs, name, `Fn::Sub \${${name}}`);
    });
  },
};

function lookup(table: Readonly<Record<string, string>>, key: string, what: string): string {
  const value = table[key];
  if (value === undefined) throw new UnresolvableError(`${what} has no local value`);
  return value;
}
