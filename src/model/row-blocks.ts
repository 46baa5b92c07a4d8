/**
 * A table's rows 0..n-1 as one packed array of raw 32-bit words and back, across the
 * RowStore's chunks (checkpoints: src/train/train-state.ts). @module
 */
import type { RowStore } from './row-store.ts';

/**
 * [n, stride] the blocks of rows 0..n-1 as raw 32-bit words (integers: a float32 copy could
 * canonicalize NaN bit patterns of the int32 words), chunk by chunk, in row order.
 */
export function rowBlocks(rows: RowStore, n: number): Uint32Array {
  const S = rows.stride,
    C = rows.chunkRows,
    out = new Uint32Array(n * S);
  for (let c = 0; c * C < n; c++) {
    const w = rows.chunks[c].words,
      m = Math.min(C, n - c * C);
    out.set(new Uint32Array(w.buffer, w.byteOffset, m * S), c * C * S);
  }
  return out;
}

/** Sets the blocks of rows 0..n-1 from [n, stride] raw words (rowBlocks' output); capacity >= n. */
export function setRowBlocks(rows: RowStore, n: number, blocks: Uint32Array): void {
  const S = rows.stride,
    C = rows.chunkRows;
  for (let c = 0; c * C < n; c++) {
    const w = rows.chunks[c].words,
      m = Math.min(C, n - c * C);
    new Uint32Array(w.buffer, w.byteOffset, m * S).set(blocks.subarray(c * C * S, (c * C + m) * S));
  }
}
