/**
 * Rebuilding an embedding table's id map after it grew (EmbeddingTable.resize), in the order
 * of the entries' home positions rather than of the rows. @module
 *
 * Ids are uniform hashes, so rows in admission order land at random map positions: one
 * cache and TLB miss per row (measured: 15 s for 3.4e7 rows into a 512 MiB map on this
 * 2-core VM under load). Here the rows are first partitioned by the 1 MiB region of the map
 * that their home lies in (a counting sort: sequential reads of the ids, one write stream
 * per region), then inserted region by region, so the writes of a region stay in cache.
 * Linear probing gives a valid map whatever the order of insertion (no deletions happen
 * during the build), so find() answers as before; only where colliding ids sit may differ.
 */

/** log2 of the map entries per region (2^18 entries = 1 MiB of map). */
const REGION_BITS = 18;
/** Below this many rows the plain insertion in row order is used (its map fits in cache). */
const SMALL = 1 << 16;

/** The map position where the probe for id (hi, lo) starts (as EmbeddingTable's). */
const home = (hi: number, lo: number, mask: number): number => (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;

/**
 * Inserts rows 0..n-1 into an empty open-addressing id map (linear probing; EmbeddingTable's
 * layout: entry = (hi & tagMask) | (row + 1), 0 = empty).
 * @param map    [mask + 1] the empty map (mask + 1 a power of two, at least 2n entries).
 * @param ids    [>= 2n] each row's id, high word at 2 row, low word at 2 row + 1.
 * Temporary memory: 8 bytes per row (the partitioned (home, entry) pairs), freed on return.
 */
export function fillIdMap(map: Uint32Array, mask: number, tagMask: number, ids: Uint32Array, n: number): void {
  const regions = (mask + 1) >>> REGION_BITS;
  if (n < SMALL || regions < 2) {
    for (let r = 0; r < n; r++)
      insert(map, mask, home(ids[2 * r], ids[2 * r + 1], mask), ((ids[2 * r] & tagMask) | (r + 1)) >>> 0);
    return;
  }
  const start = new Uint32Array(regions + 1);
  for (let r = 0; r < n; r++) start[(home(ids[2 * r], ids[2 * r + 1], mask) >>> REGION_BITS) + 1]++;
  for (let b = 0; b < regions; b++) start[b + 1] += start[b];
  const pairs = new Uint32Array(2 * n),
    at = start.slice(0, regions);
  for (let r = 0; r < n; r++) {
    const h = home(ids[2 * r], ids[2 * r + 1], mask),
      i = 2 * at[h >>> REGION_BITS]++;
    pairs[i] = h;
    pairs[i + 1] = ((ids[2 * r] & tagMask) | (r + 1)) >>> 0;
  }
  for (let i = 0; i < 2 * n; i += 2) insert(map, mask, pairs[i], pairs[i + 1]);
}

/** Puts `entry` at the first empty position from `p` on. */
function insert(map: Uint32Array, mask: number, p: number, entry: number): void {
  while (map[p] !== 0) p = (p + 1) & mask;
  map[p] = entry;
}
