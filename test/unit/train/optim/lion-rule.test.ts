import { describe, expect, it } from 'vitest';
import { RowStore } from '../../../../src/model/row-store.ts';
import { fromBf16, toBf16 } from '../../../../src/train/optim/bf16.ts';
import { catchUpRow, constantCatchUp, lionRowUpdate, scheduledCatchUp } from '../../../../src/train/optim/lion-rule.ts';
import { lrFunction } from '../../../../src/train/optim/schedule.ts';

// The one JS source of the sparse Lion arithmetic: the row update (both momentum dtypes)
// and the catch-up, against float64 re-derivations and against idle steps taken one by one.
describe('lion-rule: row update and catch-up', () => {
  const p = { lr: 0.01, beta1: 0.9, beta2: 0.99, weightDecay: 0.3 };
  const sign = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0);
  const mom = (r: RowStore, j: number) =>
    r.dtype === 'float32' ? r.data[r.momentumAt(0) + j] : fromBf16(r.half[2 * r.momOff + j]);

  for (const dtype of ['float32', 'bfloat16'] as const) {
    it(`${dtype} momentum: three updates equal the float64 formula rounded on store (sign(0) = 0, lr scaled)`, () => {
      const W = 4,
        rows = new RowStore(W, 1, dtype);
      const round = dtype === 'float32' ? Math.fround : (x: number) => fromBf16(toBf16(x));
      rows.setWeights(0, [0.5, -0.5, 0.25, 0]);
      const th = [0.5, -0.5, 0.25, 0],
        m = [0, 0, 0, 0];
      const steps = [
        [1, -1, 0, 0],
        [0.5, 2, -0.25, 0],
        [-1, 0.125, 1, 0],
      ];
      for (const g of steps) {
        lionRowUpdate(rows, rows.chunks[0], 0, 0, 0, W, p, 0.5, new Float32Array(g));
        for (let j = 0; j < W; j++) {
          const c = p.beta1 * m[j] + (1 - p.beta1) * g[j],
            lr = p.lr * 0.5;
          th[j] = Math.fround((1 - lr * p.weightDecay) * th[j] - lr * sign(c));
          m[j] = round(p.beta2 * m[j] + (1 - p.beta2) * g[j]);
        }
      }
      for (let j = 0; j < W; j++) {
        expect(rows.data[j], `weight ${j}`).toBe(th[j]);
        expect(mom(rows, j), `momentum ${j}`).toBe(m[j]);
      }
      expect(rows.data[3]).toBe(0); // zero gradients throughout: sign(c) = 0, no decay of a 0 weight
    });
  }

  it('exact catch-up of k idle steps equals k zero-gradient steps; decayed drops the sign drift', () => {
    for (const k of [1, 5, 300]) {
      const W = 3,
        one = new RowStore(W, 1),
        exact = new RowStore(W, 1),
        decayed = new RowStore(W, 1);
      for (const r of [one, exact, decayed]) {
        r.setWeights(0, [0.2, -0.7, 0.4]);
        r.data.set([0.3, -0.1, 0], r.momentumAt(0));
      }
      const zero = new Float32Array(W);
      for (let s = 0; s < k; s++) lionRowUpdate(one, one.chunks[0], 0, 0, 0, W, p, 1, zero);
      const f = constantCatchUp(p, p.lr, k);
      catchUpRow(exact, exact.chunks[0], 0, 0, W, p, true, f);
      catchUpRow(decayed, decayed.chunks[0], 0, 0, W, p, false, constantCatchUp(p, p.lr, k));
      const a = 1 - p.lr * p.weightDecay;
      for (let j = 0; j < W; j++) {
        expect(exact.data[j], `k ${k} weight ${j}`).toBeCloseTo(one.data[j], 5);
        expect(exact.data[exact.momentumAt(0) + j]).toBeCloseTo(one.data[one.momentumAt(0) + j], 7);
        expect(decayed.data[j]).toBeCloseTo(Math.fround([0.2, -0.7, 0.4][j]) * a ** k, 6);
      }
    }
  });

  it('under a schedule that is constant from step 0, the scheduled factors equal the closed form', () => {
    const lrAt = lrFunction({ kind: 'constant', timescaleSteps: 1, warmupSteps: 0, floor: 0 });
    for (const [first, k] of [
      [0, 1],
      [3, 40],
      [100, 2000],
    ]) {
      const s = Array.from(scheduledCatchUp(p, first, k, lrAt)),
        c = Array.from(constantCatchUp(p, p.lr, k));
      for (let i = 0; i < 3; i++) expect(s[i], `first ${first} k ${k} factor ${i}`).toBeCloseTo(c[i], 10);
    }
    // and a warm-up changes them: the first steps have a smaller lr
    const warm = lrFunction({ kind: 'constant', timescaleSteps: 1, warmupSteps: 10, floor: 0 });
    expect(scheduledCatchUp(p, 0, 5, warm)[2]).toBeLessThan(constantCatchUp(p, p.lr, 5)[2]);
  });
});
