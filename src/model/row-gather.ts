/**
 * Builds a batch's tower input from its looked-up rows, one example at a time (issue 13): for
 * each example the rows of every slot are copied into the example's contiguous stretch of x,
 * then its numerics, so that x [B, I] is written once, front to back (it was written one slot
 * column at a time: F strided passes over x, ~10 MB at batch 4096). Measured, the order alone
 * gained nothing; the gain (a third of the gather's CPU time with the lookups) came with the
 * loop that takes the tables' stride and dim as constants and with arrays reused across batches.
 * The rows of a block of examples are read ahead first in a tight loop of independent loads
 * (so that the CPU has many row misses in flight at once on large tables), then copied from
 * cache. Every element of x and wide is written: buffers can be reused across batches.
 * @module
 */
import { copyRun } from './float-runs.ts';
import type { RowStore } from './row-store.ts';

/** Examples whose rows are read ahead at once: 16 x 39 rows of <= 2 cache lines fit L2 (measured 4-32 alike). */
const BLOCK = 16;
/** Where the read-ahead's sum goes, so that its loads are not dropped as unused. */
let sink = 0;

/**
 * For each example b of [0, B): x[b * I + c_f + j] = word 1 + j (j < D_f) of the row of slot f
 * (c_f = D_0 + ... + D_{f-1}: the slots' columns side by side), 0 where the example has no row
 * in the slot (rowIdx -1); x[b * I + (I - N) + n] = dense[b * N + n]; wide[b] = the float32 sum,
 * in slot order, of the rows' word 0 (0 without rows). The sum rounds to float32 after every
 * addition, as `wide[b] += w` into a Float32Array does: the same bits as a per-slot copy.
 * Tables of one chunk each with one stride and dim (every table below 2^20 rows of a model
 * with one dim) take a loop with those as constants: half the time of the general one.
 * @param rowIdx [B, F] row index of each (example, slot) (F = stores.length), -1: no row.
 * @param stores F row stores (chunked: row r in chunk r >>> shift at word (r & chunkMask) * stride).
 * @param dims F embedding dims; I = sum(dims) + N.
 * @param x [B, I] tower input; wide [B] linear sums; dense [B, N] numerics (all written or read
 *   only over their first B rows).
 */
export function fillInput(
  rowIdx: Int32Array,
  B: number,
  stores: readonly RowStore[],
  dims: readonly number[],
  dense: Float32Array,
  N: number,
  x: Float32Array,
  I: number,
  wide: Float32Array,
): void {
  const S = stores[0]?.stride ?? 0,
    D = dims[0];
  const uniform = stores.every((s, f) => s.chunks.length === 1 && s.stride === S && dims[f] === D);
  if (uniform)
    fillUniform(
      rowIdx,
      B,
      stores.map((s) => s.chunks[0].data),
      S,
      D,
      dense,
      N,
      x,
      I,
      wide,
    );
  else fillChunked(rowIdx, B, stores, dims, dense, N, x, I, wide);
}

/** fillInput for F one-chunk tables `data` of S-word rows and dim D. */
function fillUniform(
  rowIdx: Int32Array,
  B: number,
  data: readonly Float32Array[],
  S: number,
  D: number,
  dense: Float32Array,
  N: number,
  x: Float32Array,
  I: number,
  wide: Float32Array,
): void {
  const F = data.length;
  let acc = 0;
  for (let b0 = 0; b0 < B; b0 += BLOCK) {
    const b1 = Math.min(B, b0 + BLOCK);
    for (let k = b0 * F, end = b1 * F, f = 0; k < end; k++) {
      const r = rowIdx[k];
      if (r >= 0) {
        const d = data[f],
          o = r * S;
        acc += d[o] + d[o + D];
      }
      if (++f === F) f = 0;
    }
    for (let b = b0; b < b1; b++) {
      const k = b * F;
      let xo = b * I,
        w = 0;
      for (let f = 0; f < F; f++, xo += D) {
        const r = rowIdx[k + f];
        if (r < 0) {
          for (let j = 0; j < D; j++) x[xo + j] = 0;
          continue;
        }
        const d = data[f],
          o = r * S + 1;
        w = Math.fround(w + d[o - 1]);
        copyRun(x, xo, d, o, D);
      }
      wide[b] = w;
      for (let n = 0, dn = b * N; n < N; n++) x[xo + n] = dense[dn + n];
    }
  }
  sink += acc;
}

/** fillInput for any tables: the chunk, stride and dim of each slot read per row. */
function fillChunked(
  rowIdx: Int32Array,
  B: number,
  stores: readonly RowStore[],
  dims: readonly number[],
  dense: Float32Array,
  N: number,
  x: Float32Array,
  I: number,
  wide: Float32Array,
): void {
  const F = stores.length;
  let acc = 0;
  for (let b0 = 0; b0 < B; b0 += BLOCK) {
    const b1 = Math.min(B, b0 + BLOCK);
    for (let k = b0 * F, end = b1 * F, f = 0; k < end; k++) {
      const r = rowIdx[k];
      if (r >= 0) {
        const s = stores[f],
          data = s.chunks[r >>> s.shift].data,
          o = (r & s.chunkMask) * s.stride;
        acc += data[o] + data[o + dims[f]];
      }
      if (++f === F) f = 0;
    }
    for (let b = b0; b < b1; b++) {
      const k = b * F;
      let xo = b * I,
        w = 0;
      for (let f = 0; f < F; f++) {
        const r = rowIdx[k + f],
          D = dims[f];
        if (r < 0) {
          for (let j = 0; j < D; j++) x[xo + j] = 0;
        } else {
          const s = stores[f],
            data = s.chunks[r >>> s.shift].data,
            o = (r & s.chunkMask) * s.stride;
          w = Math.fround(w + data[o]);
          copyRun(x, xo, data, o + 1, D);
        }
        xo += D;
      }
      wide[b] = w;
      for (let n = 0, dn = b * N; n < N; n++) x[xo + n] = dense[dn + n];
    }
  }
  sink += acc;
}

/** The read-ahead's running sum (read by nothing but tests; keeps its loads alive). */
export function readAheadSink(): number {
  return sink;
}
