/**
 * Whether the `rooms` claim allows a room (PROTOCOL.md section 1): an exact
 * name, or a prefix ending in `*`; `null` (claim absent) allows every room.
 */
export function roomAllowed(patterns: readonly string[] | null, room: string): boolean {
  if (patterns === null) return true;
  return patterns.some((pattern) =>
    pattern.endsWith('*') ? room.startsWith(pattern.slice(0, -1)) : pattern === room,
  );
}
