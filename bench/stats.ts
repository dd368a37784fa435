/** The value at quantile `q` (0 to 1) of values sorted ascending: the nearest rank. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

/** The middle value (the upper one of an even count), in any order. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** The arithmetic mean; NaN for none. */
export const mean = (values: readonly number[]) =>
  values.length === 0 ? Number.NaN : sum(values) / values.length;
