/**
 * Copies one slot's looked-up embedding rows into the tower input, reading the rows of a chunk
 * of examples first in a tight loop of independent loads (so that the CPU has many row misses
 * in flight at once: the rows of a large table are random reads from memory) and then copying
 * them from cache. Issue 13: on 1e7-row tables the per-row copy, one row miss at a time, was
 * most of CtrModel.gather.
 * @module
 */
import type { RowStore } from './row-store.ts';

/** Examples whose rows are read ahead at once: 256 rows of <= 2 cache lines fit L1/L2. */
const CHUNK = 256;
/** Where the read-ahead's sum goes, so that its loads are not dropped as unused. */
let sink = 0;

/**
 * For each example b of [0, B) with a row (rowIdx[b * F + f] >= 0): wide[b] += the row's
 * linear weight (word 0), x[b * I + co + j] = the row's embedding word 1 + j (j < D). Examples
 * without a row (-1) are left as they are (zero). Same values and order of additions as a
 * plain per-example copy.
 * @param rowIdx [B, F] row indices of the batch (slot f's column is read).
 * @param rows the table's row store (chunked: row r in chunk r >>> shift, RowStore).
 * @param x [B, I] tower input; wide [B] linear sums.
 */
export function copySlotRows(
  rowIdx: Int32Array,
  F: number,
  f: number,
  B: number,
  rows: RowStore,
  D: number,
  x: Float32Array,
  I: number,
  co: number,
  wide: Float32Array,
): void {
  const chunks = rows.chunks,
    sh = rows.shift,
    m = rows.chunkMask,
    stride = rows.stride;
  let acc = 0;
  for (let b0 = 0; b0 < B; b0 += CHUNK) {
    const b1 = Math.min(B, b0 + CHUNK);
    for (let b = b0; b < b1; b++) {
      const r = rowIdx[b * F + f];
      if (r >= 0) {
        const data = chunks[r >>> sh].data,
          o = (r & m) * stride;
        acc += data[o] + data[o + D];
      }
    }
    for (let b = b0; b < b1; b++) {
      const r = rowIdx[b * F + f];
      if (r < 0) continue;
      const data = chunks[r >>> sh].data,
        ro = (r & m) * stride,
        xo = b * I + co;
      wide[b] += data[ro];
      for (let j = 0; j < D; j++) x[xo + j] = data[ro + 1 + j];
    }
  }
  sink += acc;
}

/** The read-ahead's running sum (read by nothing but tests; keeps its loads alive). */
export function readAheadSink(): number {
  return sink;
}
