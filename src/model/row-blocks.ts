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

/**
 * Stride (words) of the bfloat16 layout before the update count moved into a half word
 * (W weights, ceil(W/2) words of momentum halves, lastStep, an int32 update count): checkpoints
 * written before then hold blocks of this stride.
 */
export function legacyBf16Stride(width: number): number {
  return width + Math.ceil(width / 2) + 2;
}

/**
 * [n, legacyBf16Stride(W)] blocks of the old bfloat16 layout as [n, rows.stride] blocks of the
 * current one (RowStore): weights, momenta and lastStep copied, the int32 update count
 * saturated to the uint16 after the momenta. `rows` must have bfloat16 momentum.
 */
export function fromLegacyBf16(rows: RowStore, n: number, blocks: Uint32Array): Uint32Array {
  const W = rows.width,
    S0 = legacyBf16Stride(W),
    S = rows.stride,
    m0 = Math.ceil(W / 2),
    out = new Uint32Array(n * S),
    half = new Uint16Array(out.buffer);
  for (let r = 0; r < n; r++) {
    const a = r * S0,
      b = r * S;
    out.set(blocks.subarray(a, a + W + m0), b);
    out[b + rows.metaOff] = blocks[a + W + m0];
    half[2 * b + rows.countHalf] = Math.min(blocks[a + W + m0 + 1], 0xffff);
  }
  return out;
}
