/**
 * The open-addressing index shared by the id caches keyed by text (src/serve/text-ids.ts) and by
 * bytes (./byte-ids.ts): a table (a power-of-two Int32Array) of entry index + 1 (0: empty), linear
 * probing from the entry's 32-bit hash. @module
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
