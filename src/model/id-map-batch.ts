/**
 * Finding a batch of ids in an embedding table's id map in passes (issue 12: lookups at 60 % of a
 * random row read), so that the cache misses of different ids overlap. @module
 *
 * One id's find() is a chain of dependent misses: its map entry, then its row's id words, then
 * (the caller's gather) its row; and whether the probe goes on past the home entry is a branch
 * that waits for the id words, so a mispredicted one undoes the work begun for the next ids. In
 * passes, each pass's loads are independent of one another: (1) read each id's home entry;
 * (2) probe the map (now in cache) to the first entry whose tag matches the id, no id words
 * read; (3) check that candidate row's id words, a branch that almost always goes one way (a tag
 * of >= 2 bits matches another id's entry rarely), falling back to the table's exact find() when
 * it does not. The result is find()'s, id for id (test/unit/model/id-map-batch.test.ts).
 */

/**
 * Map entries from which the passes pay (EmbeddingTable.findMany): a smaller map (and its rows' ids)
 * stays in cache, where the passes only add work (bench/table-lookup.ts at 10^4 rows, map 2^14
 * entries: 9.9e6 lookups/s in passes, 1.11e7 id by id; at 10^5 rows, 2^18 entries: 2.88e6 vs 2.73e6).
 */
export const BATCH_FROM_ENTRIES = 2 ** 17;

/** Anything answering EmbeddingTable.find (the fallback of pass 3). */
export interface ExactFind {
  find(hi: number, lo: number): number;
}

/**
 * out[k] = the row of id (idHi[k], idLo[k]) in the map, or -1 when absent, for k = from, from +
 * step, ... < end (a [B, F] batch's slot f: from f, step F).
 * @param map  [mask + 1] EmbeddingTable's layout: 0 empty, else (hi & tagMask) | (row + 1), linear
 *   probing from (lo ^ imul(hi, 0x9e3779b1)) & mask; the table must have no old map moving.
 * @param ids  [2 rows] each row's id, hi at 2 row, lo at 2 row + 1.
 * @param exact answers an id whose first tag match was another id's entry.
 */
export function findBatch(
  map: Uint32Array,
  mask: number,
  tagMask: number,
  ids: Uint32Array,
  idHi: Uint32Array,
  idLo: Uint32Array,
  from: number,
  end: number,
  step: number,
  out: Int32Array,
  exact: ExactFind,
): void {
  // out[k] holds the home entry (as int32) between passes 1 and 2
  for (let k = from; k < end; k += step) out[k] = map[(idLo[k] ^ Math.imul(idHi[k], 0x9e3779b1)) & mask];
  for (let k = from; k < end; k += step) {
    const hi = idHi[k];
    let p = (idLo[k] ^ Math.imul(hi, 0x9e3779b1)) & mask,
      e = out[k];
    while (e !== 0 && ((e ^ hi) & tagMask) !== 0) {
      p = (p + 1) & mask;
      e = map[p];
    }
    out[k] = (e & mask) - 1; // -1: an empty entry before any of this id's tag, absent
  }
  for (let k = from; k < end; k += step) {
    const r = out[k];
    if (r >= 0 && (ids[2 * r + 1] !== idLo[k] || ids[2 * r] !== idHi[k])) out[k] = exact.find(idHi[k], idLo[k]);
  }
}
