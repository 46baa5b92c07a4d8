/**
 * @module Copies of short runs of float32 words (an embedding row, a slot's gradient columns)
 * between typed arrays, written out by hand for the hot loops of the train step (issue 13): the
 * tower input's rows (row-gather.ts) and the sparse kernel's staged gradients
 * (src/train/optim/wasm). A `for (j < D)` copy of a run length known only at run time kept one
 * load in flight per run; the 16 (the default dim) and 8-word blocks below let V8 issue them
 * together: the 39 slots' [4096, 16] gradient columns of a 637-wide [4096, 637] tower-input
 * gradient staged in 2.4-5.5 ms against 8-14 ms (median of 8, node 20, 2 cores shared, load 5).
 * Same bits: each word is read and written as the loop did.
 */

/**
 * dst[d + j] = src[s + j] for j in [0, n): n words from offset s of src to offset d of dst
 * (the ranges must not overlap; both in bounds).
 */
export function copyRun(dst: Float32Array, d: number, src: Float32Array, s: number, n: number): void {
  if (n === 16) {
    dst[d] = src[s];
    dst[d + 1] = src[s + 1];
    dst[d + 2] = src[s + 2];
    dst[d + 3] = src[s + 3];
    dst[d + 4] = src[s + 4];
    dst[d + 5] = src[s + 5];
    dst[d + 6] = src[s + 6];
    dst[d + 7] = src[s + 7];
    dst[d + 8] = src[s + 8];
    dst[d + 9] = src[s + 9];
    dst[d + 10] = src[s + 10];
    dst[d + 11] = src[s + 11];
    dst[d + 12] = src[s + 12];
    dst[d + 13] = src[s + 13];
    dst[d + 14] = src[s + 14];
    dst[d + 15] = src[s + 15];
    return;
  }
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const a = d + j,
      b = s + j;
    dst[a] = src[b];
    dst[a + 1] = src[b + 1];
    dst[a + 2] = src[b + 2];
    dst[a + 3] = src[b + 3];
    dst[a + 4] = src[b + 4];
    dst[a + 5] = src[b + 5];
    dst[a + 6] = src[b + 6];
    dst[a + 7] = src[b + 7];
  }
  for (; j < n; j++) dst[d + j] = src[s + j];
}

/**
 * Strided columns: dst[b * dStride + d + j] = src[b * sStride + s + j] for b in [0, rows) and
 * j in [0, n), e.g. one slot's [B, D] gradient out of the [B, I] tower-input gradient.
 */
export function copyColumns(
  dst: Float32Array,
  d: number,
  dStride: number,
  src: Float32Array,
  s: number,
  sStride: number,
  rows: number,
  n: number,
): void {
  for (let b = 0; b < rows; b++, d += dStride, s += sStride) copyRun(dst, d, src, s, n);
}
