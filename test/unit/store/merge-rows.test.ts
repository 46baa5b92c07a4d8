/**
 * mergeRowBlock (src/store/redis/merge-rows.ts), the rule the merge script is held to, without Redis:
 * a row absent or unchanged since the pull gets the new block; one changed meanwhile gets the step's
 * change added (weights and momentum: a float64 reference, within float32 / bfloat16 rounding), the
 * update count added and saturated, lastStep the larger; the bfloat16 padding half comes from the new block.
 */
import { describe, expect, it } from 'vitest';
import { fromBf16, toBf16 } from '../../../src/model/weight-dtype.ts';
import { mergeRowBlock, strideOfLayout } from '../../../src/store/redis/merge-rows.ts';

const W = 4;

/** A float32-layout block: weights, momentum, lastStep, count. */
function f32Block(w: number[], m: number[], last: number, count: number): Int32Array {
  const b = new Int32Array(strideOfLayout(W, 'float32')),
    f = new Float32Array(b.buffer);
  f.set(w);
  f.set(m, W);
  b[2 * W] = last;
  b[2 * W + 1] = count;
  return b;
}

/** A bfloat16-layout block: weights, momentum halves, count half, padding half, lastStep. */
function bf16Block(w: number[], m: number[], count: number, pad: number, last: number): Int32Array {
  const S = strideOfLayout(W, 'bfloat16'),
    b = new Int32Array(S),
    f = new Float32Array(b.buffer),
    h = new Uint16Array(b.buffer);
  f.set(w);
  h.set(m.map(toBf16), 2 * W);
  h[3 * W] = count;
  h[3 * W + 1] = pad;
  b[S - 1] = last;
  return b;
}

describe('mergeRowBlock', () => {
  it('absent or unchanged since the pull: the new block', () => {
    const old = f32Block([1, 2, 3, 4], [0.1, 0.2, 0.3, 0.4], 5, 2),
      next = f32Block([1.5, 2, 3, 4], [0.2, 0.2, 0.3, 0.4], 6, 3);
    expect([...mergeRowBlock(null, old, next, W, 'float32')]).toEqual([...next]);
    expect([...mergeRowBlock(old.slice(), old, next, W, 'float32')]).toEqual([...next]);
  });

  it('float32: the change added to the row as it is now; count added; lastStep the larger', () => {
    const old = f32Block([1, -2, 0.5, 0], [0.1, -0.2, 0, 0.4], 5, 2),
      next = f32Block([0.997, -1.997, 0.503, -0.003], [0.11, -0.19, 0.01, 0.39], 6, 3),
      cur = f32Block([1.003, -2.003, 0.497, 0.003], [0.09, -0.21, -0.01, 0.41], 9, 7);
    const out = mergeRowBlock(cur, old, next, W, 'float32'),
      f = new Float32Array(out.buffer);
    const [fo, fn, fc] = [old, next, cur].map((b) => new Float32Array(b.buffer));
    for (let j = 0; j < 2 * W; j++) {
      const want = fc[j] + fn[j] - fo[j]; // float64
      expect(Math.abs(f[j] - want)).toBeLessThanOrEqual(2 ** -23 * Math.abs(want) + 1e-12);
    }
    expect(f[0]).toBeCloseTo(1.0, 6); // both steps: +0.003 then -0.003
    expect(out[2 * W]).toBe(9);
    expect(out[2 * W + 1]).toBe(8);
  });

  it('bfloat16: momentum rounded to bfloat16, count saturating at 65535, padding from the new block', () => {
    const old = bf16Block([1, 2, 3, 4], [0.5, -0.25, 0.125, 1], 65534, 7, 10),
      next = bf16Block([1.01, 2, 3, 4], [0.55, -0.2, 0.1, 1], 65535, 9, 11),
      cur = bf16Block([0.99, 2, 3, 4], [0.45, -0.3, 0.15, 1], 65535, 8, 12);
    const out = mergeRowBlock(cur, old, next, W, 'bfloat16'),
      h = new Uint16Array(out.buffer),
      f = new Float32Array(out.buffer);
    const halves = [old, next, cur].map((b) => new Uint16Array(b.buffer));
    for (let j = 0; j < W; j++) {
      const [o, n, c] = halves.map((x) => fromBf16(x[2 * W + j]));
      const want = c + (n - o);
      expect(h[2 * W + j]).toBe(toBf16(want));
      expect(Math.abs(fromBf16(h[2 * W + j]) - want)).toBeLessThanOrEqual(2 ** -8 * Math.abs(want));
    }
    expect(f[0]).toBeCloseTo(1.0, 6);
    expect(h[3 * W]).toBe(65535);
    expect(h[3 * W + 1]).toBe(9);
    expect(out[out.length - 1]).toBe(12);
  });
});
