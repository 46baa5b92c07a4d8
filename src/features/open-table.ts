/**
 * The open-addressing index shared by the id caches keyed by text (src/serve/text-ids.ts) and by
 * bytes (./byte-ids.ts): a table (a power-of-two Int32Array) of entry index + 1 (0: empty), linear
 * probing from the entry's 32-bit hash; and the widening of their entry arrays when they grow. @module
 */

/** Puts entry k, whose hash is h, into the first empty place of `table` from h. */
export function placeEntry(table: Int32Array, h: number, k: number): void {
  const mask = table.length - 1;
  let j = h & mask;
  while (table[j] !== 0) j = (j + 1) & mask;
  table[j] = k + 1;
}

/** A table of `size` places (a power of two, > n) holding entries 0..n-1 of `hashes`. */
export function rebuiltTable(hashes: Int32Array, n: number, size: number): Int32Array {
  const t = new Int32Array(size);
  for (let k = 0; k < n; k++) placeEntry(t, hashes[k], k);
  return t;
}

/** A copy of `a` in a new array of the same type with `size` elements (size >= a.length; the rest 0). */
export function widened<T extends Int32Array | Uint32Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}
