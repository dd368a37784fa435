/**
 * One line of the local stack's log, read: the stack's own, or a function's
 * (prefixed `[name] ` by its pool) as a metrics document, a structured log
 * entry, the runtime's report of a failed invocation, a stack trace's line,
 * or plain text.
 */
export type LogLine =
  | { readonly kind: 'stack'; readonly text: string }
  | { readonly kind: 'metrics'; readonly fn: string }
  | {
      readonly kind: 'entry';
      readonly fn: string;
      readonly level: string;
      readonly message: string;
      /** Every other key of the JSON line. */
      readonly fields: Readonly<Record<string, unknown>>;
    }
  | {
      readonly kind: 'failure';
      readonly fn: string;
      /** `Invoke Error` or `Init Error`. */
      readonly label: string;
      /** The error's first line, `Name: message`. */
      readonly error: string;
    }
  | { readonly kind: 'trace'; readonly fn: string; readonly text: string }
  | { readonly kind: 'text'; readonly fn: string; readonly text: string };

/** `[name] rest`, as the function pool prefixes every line of a function. */
const FUNCTION_LINE = /^\[([^\]\s]+)\] (.*)$/s;
/** How worker.mjs, like the Lambda runtime, reports a failure: `<id>\tERROR\tInvoke Error\t<error>`. */
const RUNTIME_FAILURE = /^\S+\tERROR\t((?:Invoke|Init) Error)\t(.*)$/s;
/** The lines after a failure's first: `    at f (file:1:2)`, `  [cause]: ...`, `}`. */
const CONTINUATION = /^(\s|\}$)/;

/** Reads one line of the local stack's log. */
export function readLogLine(line: string): LogLine {
  const prefixed = FUNCTION_LINE.exec(line);
  if (prefixed === null) return { kind: 'stack', text: line };
  const fn = prefixed[1] ?? '';
  const text = prefixed[2] ?? '';
  const failure = RUNTIME_FAILURE.exec(text);
  if (failure !== null) {
    return { kind: 'failure', fn, label: failure[1] ?? '', error: failure[2] ?? '' };
  }
  if (CONTINUATION.test(text)) return { kind: 'trace', fn, text };
  const json = jsonObject(text);
  if (json === undefined) return { kind: 'text', fn, text };
  // Embedded metric format: CloudWatch reads the `_aws` key as metrics.
  if ('_aws' in json) return { kind: 'metrics', fn };
  const { level, message, ...fields } = json;
  if (typeof level !== 'string' || typeof message !== 'string') return { kind: 'text', fn, text };
  return { kind: 'entry', fn, level, message, fields };
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
