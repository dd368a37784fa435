/**
 * A thrown value as one log line's text: name, message and the cause's, with
 * every secret replaced. Error texts come from libraries and the SDK: kept on
 * one line and, should one ever quote its input, without the token.
 */
export function describeError(error: unknown, secrets: readonly string[] = []): string {
  if (!(error instanceof Error)) return redact(String(error), secrets);
  const cause =
    error.cause instanceof Error ? ` (cause: ${error.cause.name}: ${error.cause.message})` : '';
  return redact(`${error.name}: ${error.message}${cause}`, secrets);
}

/** `text` on one line with each non-empty secret replaced by `[token]`. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let safe = text;
  for (const secret of secrets) if (secret !== '') safe = safe.replaceAll(secret, '[token]');
  return safe.replace(/\s+/g, ' ');
}
