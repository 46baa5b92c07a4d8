/**
 * copyRun / copyColumns (src/model/float-runs.ts) against a plain word-by-word copy: every run
 * length the unrolled blocks split differently (0, 1, 7, 8, 9, 15, 16, 17, 24, 33), at offsets
 * that are not multiples of the block, bit for bit (NaN, -0, infinities and subnormals among the
 * words; compared as their int32 bits), and no word outside the destination run written.
 */
import { describe, expect, it } from 'vitest';
import { copyColumns, copyRun } from '../../../src/model/float-runs.ts';

let s = 11;
const rnd = () => {
  s = (Math.imul(s, 1103515245) + 12345) >>> 0;
  return s / 2 ** 32;
};
const SPECIAL = [Number.NaN, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-45, -3.4e38];
/** n float32 words, one in seven a special value. */
const words = (n: number) =>
  Float32Array.from({ length: n }, (_, i) => (i % 7 === 3 ? SPECIAL[i % SPECIAL.length] : rnd() * 2 - 1));
const bits = (a: Float32Array) => Array.from(new Int32Array(a.buffer, a.byteOffset, a.length));

describe('copyRun', () => {
  for (const n of [0, 1, 7, 8, 9, 15, 16, 17, 24, 33])
    it(`copies ${n} words bit for bit and nothing else`, () => {
      const src = words(100),
        dst = new Float32Array(120).fill(42),
        want = dst.slice();
      for (let j = 0; j < n; j++) want[5 + j] = src[13 + j];
      copyRun(dst, 5, src, 13, n);
      expect(bits(dst)).toEqual(bits(want));
    });
});

describe('copyColumns', () => {
  for (const n of [16, 8, 5])
    it(`copies a [rows, ${n}] column block out of a wider matrix (strides 637 -> ${n + 3})`, () => {
      const B = 37,
        I = 637,
        col = 301,
        src = words(B * I),
        dst = new Float32Array(B * (n + 3) + 2).fill(-1),
        want = dst.slice();
      for (let b = 0; b < B; b++) for (let j = 0; j < n; j++) want[2 + b * (n + 3) + j] = src[b * I + col + j];
      copyColumns(dst, 2, n + 3, src, col, I, B, n);
      expect(bits(dst)).toEqual(bits(want));
    });
});
