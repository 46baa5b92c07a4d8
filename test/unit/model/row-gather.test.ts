/**
 * fillInput (src/model/row-gather.ts) against the per-slot copy it replaced (x written one slot
 * column at a time into a zeroed array, `wide[b] += w` into a Float32Array): the same x and wide
 * bit for bit, with examples without a row (-1) at zero, slots of different dims, batches that
 * are not a multiple of the read-ahead block, rows in several chunks, and arrays that hold a
 * previous batch's values (reused buffers). CtrModel.gather's own tests (model.test.ts) cover it
 * in the model.
 */
import { describe, expect, it } from 'vitest';
import { fillInput } from '../../../src/model/row-gather.ts';
import { RowStore, rowViewLimits } from '../../../src/model/row-store.ts';

let s = 7;
const rnd = () => {
  s = (Math.imul(s, 1103515245) + 12345) >>> 0;
  return s / 2 ** 32;
};

/** The copy before issue 13's change: per slot, per example, into zeroed x and wide. */
function reference(
  rowIdx: Int32Array,
  B: number,
  stores: RowStore[],
  dims: number[],
  dense: Float32Array,
  N: number,
  I: number,
): { x: Float32Array; wide: Float32Array } {
  const F = stores.length,
    x = new Float32Array(B * I),
    wide = new Float32Array(B);
  let co = 0;
  for (let f = 0; f < F; f++) {
    for (let b = 0; b < B; b++) {
      const r = rowIdx[b * F + f];
      if (r < 0) continue;
      const data = stores[f].dataOf(r),
        o = stores[f].at(r);
      wide[b] += data[o];
      for (let j = 0; j < dims[f]; j++) x[b * I + co + j] = data[o + 1 + j];
    }
    co += dims[f];
  }
  for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) x[b * I + co + n] = dense[b * N + n];
  return { x, wide };
}

describe('fillInput', () => {
  it.each([
    ['one chunk a table, one dim (the uniform loop)', [4, 4, 4], 20],
    ['4 chunks a table, dims 4/3/4 (the chunked loop)', [4, 3, 4], 4],
  ])('gives the per-slot copy bit for bit: %s, -1 rows zero, B not a block multiple, dirty x', (_, dims, log2) => {
    const F = dims.length,
      B = 601,
      N = 2,
      rows = 50,
      I = dims.reduce((a, d) => a + d, 0) + N;
    const real = rowViewLimits.chunkRowsLog2;
    rowViewLimits.chunkRowsLog2 = log2; // 2^4 = 16 rows a chunk: 50 rows in 4 chunks
    const stores = dims.map((D) => new RowStore(D + 1, rows, 'float32'));
    rowViewLimits.chunkRowsLog2 = real;
    expect(stores[0].chunks.length).toBe(log2 === 4 ? 4 : 1);
    // linear weights of mixed magnitudes: a float64 sum rounded once would differ from float32 steps
    for (const st of stores)
      for (let r = 0; r < rows; r++)
        for (let j = 0; j <= st.width - 1; j++) st.dataOf(r)[st.at(r) + j] = (rnd() * 2 - 1) * (j ? 1 : 10 ** (r % 7));
    const rowIdx = new Int32Array(B * F).map(() => (rnd() < 0.1 ? -1 : Math.floor(rnd() * rows)));
    for (let f = 0; f < F; f++) rowIdx[5 * F + f] = -1; // example 5: no row in any slot
    const dense = new Float32Array(B * N).map(() => rnd());
    // a previous batch's values everywhere
    const x = new Float32Array(B * I).fill(9),
      wide = new Float32Array(B).fill(9);
    fillInput(rowIdx, B, stores, dims, dense, N, x, I, wide);
    const ref = reference(rowIdx, B, stores, dims, dense, N, I);
    expect(Buffer.from(x.buffer).equals(Buffer.from(ref.x.buffer))).toBe(true);
    expect(Buffer.from(wide.buffer).equals(Buffer.from(ref.wide.buffer))).toBe(true);
    expect(wide[5]).toBe(0);
    expect(Array.from(x.subarray(5 * I, I - N + 5 * I))).toEqual(new Array(I - N).fill(0));
    expect(x.some((v) => v !== 0 && v !== 9)).toBe(true);
  });

  it('writes only the first B rows of larger arrays', () => {
    const st = new RowStore(3, 4, 'float32');
    st.dataOf(1).set([0.5, 1, 2], st.at(1));
    const x = new Float32Array(3 * 3).fill(7),
      wide = new Float32Array(3).fill(7);
    fillInput(new Int32Array([1, -1, 1]), 2, [st], [2], new Float32Array([3, 4, 5]), 1, x, 3, wide);
    expect(Array.from(x)).toEqual([1, 2, 3, 0, 0, 4, 7, 7, 7]);
    expect(Array.from(wide)).toEqual([0.5, 0, 7]);
  });
});
