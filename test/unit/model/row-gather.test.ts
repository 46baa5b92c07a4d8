/**
 * copySlotRows (src/model/row-gather.ts) against a plain per-example copy: the same x and wide,
 * bit for bit, with examples without a row (-1) left at zero and batches that are not a
 * multiple of the read-ahead chunk. CtrModel.gather's own tests (model.test.ts) cover it in the model.
 */
import { describe, expect, it } from 'vitest';
import { copySlotRows } from '../../../src/model/row-gather.ts';
import { RowStore, rowViewLimits } from '../../../src/model/row-store.ts';

/** The copy before the read-ahead: one example at a time. */
function reference(
  rowIdx: Int32Array,
  F: number,
  f: number,
  B: number,
  data: Float32Array,
  S: number,
  D: number,
  x: Float32Array,
  I: number,
  co: number,
  wide: Float32Array,
): void {
  for (let b = 0; b < B; b++) {
    const r = rowIdx[b * F + f];
    if (r < 0) continue;
    wide[b] += data[r * S];
    for (let j = 0; j < D; j++) x[b * I + co + j] = data[r * S + 1 + j];
  }
}

describe('copySlotRows', () => {
  it('gives the per-example copy bit for bit over every slot, -1 rows zero, B not 256k, rows in 4 chunks', () => {
    const F = 3,
      B = 601,
      D = 4,
      S = 2 * (D + 1) + 2,
      rows = 50,
      I = F * D + 2;
    let s = 7;
    const rnd = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 2 ** 32;
    };
    const data = new Float32Array(rows * S).map(() => rnd() * 2 - 1);
    const rowIdx = new Int32Array(B * F).map(() => (rnd() < 0.1 ? -1 : Math.floor(rnd() * rows)));
    const x1 = new Float32Array(B * I),
      w1 = new Float32Array(B).map(() => rnd());
    const x2 = x1.slice(),
      w2 = w1.slice();
    const real = rowViewLimits.chunkRowsLog2;
    rowViewLimits.chunkRowsLog2 = 4; // 16 rows a chunk: 50 rows in 4 chunks
    const store = new RowStore(D + 1, rows, 'float32');
    rowViewLimits.chunkRowsLog2 = real;
    expect(store.chunks.length).toBe(4);
    for (let r = 0; r < rows; r++) store.dataOf(r).set(data.subarray(r * S, (r + 1) * S), store.at(r));
    for (let f = 0; f < F; f++) {
      copySlotRows(rowIdx, F, f, B, store, D, x1, I, f * D, w1);
      reference(rowIdx, F, f, B, data, S, D, x2, I, f * D, w2);
    }
    expect(Buffer.from(x1.buffer).equals(Buffer.from(x2.buffer))).toBe(true);
    expect(Buffer.from(w1.buffer).equals(Buffer.from(w2.buffer))).toBe(true);
    const miss = rowIdx.findIndex((r) => r < 0);
    const b = Math.floor(miss / F),
      f = miss % F;
    expect(Array.from(x1.subarray(b * I + f * D, b * I + f * D + D))).toEqual([0, 0, 0, 0]);
    expect(x1.some((v) => v !== 0)).toBe(true);
  });
});
