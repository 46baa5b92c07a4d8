/**
 * Deleting an entry from an embedding table's id map (EmbeddingTable.remove: a delta export's
 * tombstone, an eviction): linear probing without tombstones, so the entries after it in its
 * probe run shift back into the hole where their own probe would still reach them. @module
 */

/**
 * Empties map position `p` and moves later entries of its run back (Knuth's algorithm R, TAOCP
 * vol. 3, 6.4): an entry at q fills the hole unless its home lies cyclically in (hole, q].
 * @param map  [mask + 1] EmbeddingTable's layout: 0 empty, else (hi & ~mask) | (row + 1).
 * @param ids  [2 rows] each row's id, hi at 2 row, lo at 2 row + 1.
 */
export function deleteEntry(map: Uint32Array, mask: number, ids: Uint32Array, p: number): void {
  let hole = p;
  for (let q = (p + 1) & mask; map[q] !== 0; q = (q + 1) & mask) {
    const r = (map[q] & mask) - 1,
      home = (ids[2 * r + 1] ^ Math.imul(ids[2 * r], 0x9e3779b1)) & mask;
    if (((q - home) & mask) < ((q - hole) & mask)) continue;
    map[hole] = map[q];
    hole = q;
  }
  map[hole] = 0;
}
