/**
 * How large an embedding table's id map is (EmbeddingTable, src/model/embedding-table.ts):
 * sized by the rows in use, doubled when a new row would fill it past MAX_LOAD. @module
 *
 * Linear probing at load a takes about (1 + 1 / (1 - a)) / 2 probes a hit (1.5 at 0.5, 2.5 at
 * 0.75), most in the cache line of the first (16 entries a line). At 0.75 the map at 10^8 rows
 * is 2^27 entries, 5.4 B a row (10.7 at 0.5). Training does not depend on the map's size
 * (test/unit/model/map-capacity.test.ts; a redis-rows difference once blamed on 0.75 did not
 * come back: local and Redis runs give the same export bit for bit at 0.5 and at 0.75).
 */

/** Most entries in use of an id map, as a share of its entries (it doubles past this). */
export const MAX_LOAD = 0.75;

/** Entries of the id map of a table of n rows in use: the smallest power of two >= 16 with n <= MAX_LOAD of it. */
export function mapCapFor(n: number): number {
  return nextPow2(Math.max(16, Math.ceil(n / MAX_LOAD)));
}

/** The smallest power of two >= n (1 for n <= 1). */
export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
