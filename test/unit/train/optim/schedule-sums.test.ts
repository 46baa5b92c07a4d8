import { describe, expect, it } from 'vitest';
import { RowStore } from '../../../../src/model/row-store.ts';
import { constantFrom, lrFunction, lrMultiplier, type LrSchedule } from '../../../../src/train/optim/schedule.ts';
import { ScheduleSums } from '../../../../src/train/optim/schedule-sums.ts';
import { sparseLionStep } from '../../../../src/train/optim/sparse-lion.ts';

const sched: LrSchedule = { kind: 'cosine', timescaleSteps: 3000, warmupSteps: 50, floor: 0.1 };
const lrAt = (s: number) => lrMultiplier(sched, s);

/**
 * `ss.range(first, k)` against walking the `k` steps from `first` one by one in float64 (A the
 * product of the decay factors, D the decayed sum of the rates): both within `tol`, relative.
 */
function expectRangeEqualsWalk(
  ss: ScheduleSums,
  at: (step: number) => number,
  p: { lr: number; weightDecay: number },
  first: number,
  k: number,
  tol: number,
): void {
  let A = 1,
    D = 0;
  for (let s = first; s < first + k; s++) {
    const lr = p.lr * at(s),
      a = 1 - lr * p.weightDecay;
    A *= a;
    D = D * a + lr;
  }
  const [a2, d2] = ss.range(first, k);
  expect(Math.abs(a2 - A) / A, `A first=${first} k=${k}`).toBeLessThan(tol);
  expect(Math.abs(d2 - D) / D, `D first=${first} k=${k}`).toBeLessThan(tol);
}

describe('schedule partial products and sums (exact catch-up under a schedule)', () => {
  it('equal walking the idle steps one by one, also across 1024-step segments (float64, 1e-12 relative)', () => {
    const p = { lr: 0.01, weightDecay: 3 };
    const ss = new ScheduleSums(lrAt, p);
    let seed = 3;
    const rnd = () => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      return seed / 4294967296;
    };
    for (let q = 0; q < 200; q++) {
      const first = Math.floor(rnd() * 4000),
        k = 1 + Math.floor(rnd() * (q % 2 ? 30 : 5000));
      expectRangeEqualsWalk(ss, lrAt, p, first, k, 1e-12);
    }
  });

  it(
    'exact sparse Lion under a warm-up + cosine schedule = dense Lion with zero gradients for idle rows ' +
      '(float64 re-derivation)',
    () => {
      const W = 4,
        R = 6,
        T = 400,
        p = { lr: 0.01, beta1: 0.9, beta2: 0.99, weightDecay: 0.5 };
      const rows = new RowStore(W, R);
      const th: number[][] = [],
        m: number[][] = [];
      let seed = 11;
      const rnd = () => {
        seed = (seed * 1664525 + 1013904223) >>> 0;
        return seed / 4294967296;
      };
      for (let r = 0; r < R; r++) {
        const w = Array.from({ length: W }, () => rnd() - 0.5);
        rows.setWeights(r, w);
        rows.setLastStep(r, -1);
        th.push(w.map((x) => Math.fround(x)));
        m.push(new Array(W).fill(0));
      }
      for (let t = 0; t < T; t++) {
        // rows are touched rarely (long idle gaps), all of them on the last step
        const touched = [...Array(R).keys()].filter(() => t === T - 1 || rnd() < 0.03);
        const g = touched.map(() => Array.from({ length: W }, () => rnd() - 0.5));
        sparseLionStep(
          rows,
          new Int32Array(touched),
          touched.length,
          new Float32Array(g.flat().map(Math.fround)),
          { embedding: p, mode: 'exact' },
          t,
          lrAt,
          false,
        );
        const lr = p.lr * lrAt(t);
        for (let r = 0; r < R; r++) {
          const i = touched.indexOf(r);
          for (let j = 0; j < W; j++) {
            const gr = i >= 0 ? Math.fround(g[i][j]) : 0;
            const c = p.beta1 * m[r][j] + (1 - p.beta1) * gr;
            th[r][j] = th[r][j] - lr * (Math.sign(c) + p.weightDecay * th[r][j]);
            m[r][j] = p.beta2 * m[r][j] + (1 - p.beta2) * gr;
          }
        }
      }
      for (let r = 0; r < R; r++)
        for (let j = 0; j < W; j++)
          expect(Math.abs(rows.getWeights(r)[j] - th[r][j]), `row ${r} col ${j}`).toBeLessThan(2e-6);
    },
  );
});

describe('schedule constant tail (bounded ScheduleSums)', () => {
  const cases: LrSchedule[] = [
    { kind: 'inverse-sqrt', timescaleSteps: 5, warmupSteps: 0, floor: 0.1 },
    { kind: 'inverse-sqrt', timescaleSteps: 40, warmupSteps: 300, floor: 0.3 },
    { kind: 'cosine', timescaleSteps: 700, warmupSteps: 20, floor: 0.05 },
    { kind: 'constant', timescaleSteps: 1, warmupSteps: 60, floor: 0 },
  ];
  for (const s of cases) {
    it(
      `${s.kind} (timescale ${s.timescaleSteps}, warm-up ${s.warmupSteps}, floor ${s.floor}): ` +
        `constantFrom is the first step of the flat tail, and ranges across it equal the walk`,
      () => {
        const at = lrFunction(s),
          c = at.constantFrom!;
        expect(c).toBeLessThan(Infinity);
        // the multiplier is flat from c on, and c - 1 differs (the tail starts exactly there)
        for (const t of [c, c + 1, c + 1000, c + 10 ** 6]) expect(at(t)).toBe(at(c));
        if (c > 0) expect(at(c - 1)).not.toBe(at(c));
        // lr wd <= 2e-3 per step: A over 100k steps stays above float64's underflow
        const p = { lr: 0.01, weightDecay: 0.2 };
        const ss = new ScheduleSums(at, p);
        for (const [first, k] of [
          [0, c + 5000],
          [Math.max(0, c - 3), 10],
          [c + 17, 100_000],
          [1, 3],
          [c, 1],
        ])
          expectRangeEqualsWalk(ss, at, p, first, k, 1e-9);
        // memory: prefixes only up to the tail, not up to the 100k-step ranges asked for
        expect(ss.stepsStored).toBeLessThanOrEqual(c);
      },
    );
  }

  it('inverse-sqrt with floor 0 has no tail', () => {
    expect(constantFrom({ kind: 'inverse-sqrt', timescaleSteps: 5, warmupSteps: 0, floor: 0 })).toBe(Infinity);
  });
});
