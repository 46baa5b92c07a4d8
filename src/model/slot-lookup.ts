/**
 * Finds the rows of one slot's ids over a batch (CtrModel.gather's first pass; issue 13): one
 * loop per slot and mode, so that the table's map and ids stay in cache across the batch and
 * the loop never branches on the mode. Known ids are found in one EmbeddingTable.findMany over the
 * slot (passes whose cache misses overlap); only a missed one goes on to the admission gate and
 * findOrAdmit.
 * @module
 */
import type { AdmissionGate } from './admission.ts';
import type { EmbeddingTable } from './embedding-table.ts';

/**
 * How a slot's unknown ids are met: 'serve' (read as no row, -1), 'admit' (a new row unless the
 * table is full at its memory budget), 'gated' (a new row when the slot's admission gate lets
 * the id in, then as 'admit').
 */
export type LookupMode = 'serve' | 'admit' | 'gated';

/**
 * rowIdx[b * F + f] = the row of example b's id (idHi, idLo at b * F + f) in table t, for b in
 * [0, B), admitting rows as `mode` says (the gate's `admit` is asked with the table's clock).
 * The same rows, admissions, gate counts and order of side effects as a per-id
 * `t.findOrAdmit` (or the gate then findOrAdmit, or t.find) loop.
 * @returns lookups refused a row by a table full at its capacity ('admit' and 'gated'; a gate's
 *   refusals are counted by the gate itself).
 */
export function lookupSlot(
  t: EmbeddingTable,
  gate: AdmissionGate,
  mode: LookupMode,
  idHi: Uint32Array,
  idLo: Uint32Array,
  F: number,
  f: number,
  B: number,
  rowIdx: Int32Array,
): number {
  const end = B * F;
  let refused = 0;
  // every id's row as the table stands, found in passes whose cache misses overlap (findMany); an
  // id missed there is looked up again in order below (a row admitted for an earlier id of the
  // batch is found then), so rows, admissions and gate calls are as with find() id by id
  t.findMany(idHi, idLo, f, end, F, rowIdx);
  if (mode === 'serve') return 0;
  if (mode === 'admit') {
    for (let k = f; k < end; k += F) {
      if (rowIdx[k] >= 0) continue;
      // findOrAdmit finds a row admitted for an earlier id of the batch as find() would, in the same probe
      const r = t.findOrAdmit(idHi[k], idLo[k]);
      // -1: the table is full at the memory budget's capacity (src/model/row-budget.ts)
      if (r < 0) refused++;
      rowIdx[k] = r;
    }
  } else {
    for (let k = f; k < end; k += F) {
      if (rowIdx[k] >= 0) continue;
      const hi = idHi[k],
        lo = idLo[k];
      let r = t.find(hi, lo);
      if (r < 0 && gate.admit(hi, lo, t.clock)) {
        r = t.findOrAdmit(hi, lo);
        if (r < 0) refused++;
      }
      rowIdx[k] = r;
    }
  }
  return refused;
}
