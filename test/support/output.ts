import { vi } from 'vitest';

/** What a function wrote to stdout and stderr, one entry per line. */
export interface CapturedOutput {
  /** Every line written since capture began, stdout and stderr interleaved. */
  readonly lines: string[];
  /** The lines that are JSON objects, parsed. */
  json(): Array<Record<string, unknown>>;
  /** Powertools Logger's lines (they have a `level`). */
  logs(): Array<Record<string, unknown>>;
  /** Embedded-metric-format lines (they have `_aws`). */
  metrics(): EmfLine[];
  /** Stops capturing. */
  restore(): void;
}

/** One embedded-metric-format document, as CloudWatch reads it. */
export type EmfLine = Record<string, unknown> & {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: ReadonlyArray<{
      readonly Namespace: string;
      readonly Dimensions: string[][];
      readonly Metrics: ReadonlyArray<{ readonly Name: string; readonly Unit: string }>;
    }>;
  };
};

/**
 * Captures the process's stdout and stderr writes. Powertools Logger and
 * Metrics write through their own `node:console` Console bound to
 * `process.stdout`/`process.stderr` (not the global console that Vitest
 * intercepts), so the streams' `write` is what sees their lines.
 */
export function captureOutput(): CapturedOutput {
  const lines: string[] = [];
  const record = (chunk: unknown) => {
    lines.push(
      ...String(chunk)
        .split('\n')
        .filter((line) => line !== ''),
    );
    return true;
  };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(record);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(record);
  const json = () =>
    lines.flatMap((line) => {
      try {
        const value: unknown = JSON.parse(line);
        return typeof value === 'object' && value !== null && !Array.isArray(value)
          ? [value as Record<string, unknown>]
          : [];
      } catch {
        return [];
      }
    });
  return {
    lines,
    json,
    logs: () => json().filter((line) => 'level' in line),
    metrics: () => json().filter((line): line is EmfLine => '_aws' in line),
    restore: () => {
      stdout.mockRestore();
      stderr.mockRestore();
    },
  };
}
