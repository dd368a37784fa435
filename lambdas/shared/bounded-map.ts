/**
 * Sets `key` in `map`, first dropping the entry set longest ago when the map
 * holds `capacity` entries already: what a Lambda instance remembers between
 * invocations must not grow for as long as it stays warm.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, capacity: number): void {
  // Deleted first, so that a key set again counts as the newest.
  map.delete(key);
  if (map.size >= capacity) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}
