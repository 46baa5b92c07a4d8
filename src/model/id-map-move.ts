/**
 * Growing an embedding table's id map without a pause (issue 12): when the map doubles, the
 * old one stays readable and its entries move into the new one a few at a time, with each
 * admitted row (EmbeddingTable), instead of the whole map being rebuilt in the batch that
 * crossed the doubling (3.7-6.6 s at 8.4e6-6.7e7 rows, bench/table-growth.ts). @module
 *
 * While entries move, a row's id is in the new map, in the old one, or (if it moved) in both:
 * a lookup probes the new map, then the old one. New ids go into the new map only (an admit
 * looks in both first, so that no id gets two rows). The old map is never written, so each
 * probe in it is valid as it was; it goes when every position has been moved (at most
 * `MOVES_PER_ADMIT` positions a row: done after a quarter of the rows that fill the doubled
 * capacity, before the next doubling).
 */

/** Old-map positions moved per admitted row (the old map has 2 positions per row of capacity). */
export const MOVES_PER_ADMIT = 8;

/** The map being replaced: its entries, layout (as EmbeddingTable's) and the next position to move. */
export interface OldIdMap {
  map: Uint32Array;
  mask: number;
  rowMask: number;
  tagMask: number;
  /** Positions [0, at) have moved into the new map. */
  at: number;
}

/** The map position where the probe for id (hi, lo) starts (as EmbeddingTable's). */
const home = (hi: number, lo: number, mask: number): number => (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;

/**
 * Whether id (hi, lo)'s entry, if the old map has one, has surely not moved yet: its home is
 * at or past the next position to move (a lookup then probes the old map first, one probe).
 */
export function unmoved(o: OldIdMap, hi: number, lo: number): boolean {
  return home(hi, lo, o.mask) >= o.at;
}

/** Row of id (hi, lo) in the old map, or -1 (ids: [2 rows] hi at 2 row and lo at 2 row + 1 of each row's id). */
export function findOld(o: OldIdMap, hi: number, lo: number, ids: Uint32Array): number {
  const map = o.map,
    mask = o.mask;
  for (let p = home(hi, lo, mask); ; p = (p + 1) & mask) {
    const e = map[p];
    if (e === 0) return -1;
    if (((e ^ hi) & o.tagMask) === 0) {
      const r = (e & o.rowMask) - 1;
      if (ids[2 * r + 1] === lo && ids[2 * r] === hi) return r;
    }
  }
}

/**
 * Moves the entries of old-map positions [at, at + k) into `map` (empty positions of the new
 * layout mask/tagMask: entry (hi & tagMask) | (row + 1), linear probing; ids as findOld's). Returns true when
 * every position has moved (the old map can go).
 */
export function moveEntries(
  o: OldIdMap,
  k: number,
  map: Uint32Array,
  mask: number,
  tagMask: number,
  ids: Uint32Array,
): boolean {
  const end = Math.min(o.map.length, o.at + k),
    old = o.map;
  for (let q = o.at; q < end; q++) {
    const e = old[q];
    if (e === 0) continue;
    const r = (e & o.rowMask) - 1,
      hi = ids[2 * r];
    let p = home(hi, ids[2 * r + 1], mask);
    while (map[p] !== 0) p = (p + 1) & mask;
    map[p] = ((hi & tagMask) | (r + 1)) >>> 0;
  }
  o.at = end;
  return end === old.length;
}
