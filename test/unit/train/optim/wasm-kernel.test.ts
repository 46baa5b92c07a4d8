import { describe, expect, it } from 'vitest';
import { RowStore } from '../../../../src/model/row-store.ts';
import { RowGradients } from '../../../../src/train/optim/row-gradients.ts';
import { sparseLionStep, type SparseLionGroup, type SparseMode } from '../../../../src/train/optim/sparse-lion.ts';
import { wasmKernelCovers } from '../../../../src/train/optim/wasm/catch-up-tables.ts';
import { WasmSparseLion } from '../../../../src/train/optim/wasm/sparse-kernel.ts';
import { lrFunction, type LrSchedule } from '../../../../src/train/optim/schedule.ts';

// The WebAssembly SIMD kernel against the JS kernel (itself checked against optax and
// float64 in lion-golden.test.ts): same steps, same rows. The JS kernel computes in float64
// and rounds on store, the wasm one in float32, so weights and momentum agree to float32
// rounding: 2e-6 absolute here (values ~0.5, 20 steps). A flipped sign(c) would move a
// weight by 2 lr = 2e-2, far outside it.
const TOL = 2e-6;

/** Deterministic uniform [0, 1) (LCG), so a failure reproduces. */
const rng = (seed: number) => () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 4294967296;
};

/** Two row stores with the same random rows, lastStep -1. */
function twin(W: number, R: number, dtype: 'float32' | 'bfloat16', rand: () => number): [RowStore, RowStore] {
  const a = new RowStore(W, R, dtype),
    b = new RowStore(W, R, dtype);
  for (let r = 0; r < R; r++) {
    for (let j = 0; j < W; j++) {
      const v = rand() - 0.5;
      a.data[r * a.stride + j] = v;
      b.data[r * b.stride + j] = v;
    }
    a.setLastStep(r, -1);
    b.setLastStep(r, -1);
  }
  return [a, b];
}

/**
 * Tower input columns for slot 1 of `F` slots whose rows are `W` wide (D = W - 1 embedding
 * columns and the linear weight), with `extra` other input columns: the input width `I` and the
 * slot's first column `col`.
 */
function slotColumns(W: number, F: number, extra: number): { I: number; col: number } {
  const D = W - 1;
  return { I: F * D + extra, col: D + 1 };
}

/**
 * Twin stores (see twin): `a` for the JS kernel, with its gradient accumulator `rg` (batches of up to
 * `maxRows` rows; RowGradients' default when absent), and `b` under the wasm kernel `k`.
 */
function kernels(W: number, R: number, dtype: 'float32' | 'bfloat16', rand: () => number, maxRows?: number) {
  const [a, b] = twin(W, R, dtype, rand);
  return { a, b, rg: new RowGradients(W, maxRows), k: new WasmSparseLion(b) };
}

/** Largest difference of weights and of momentum (widened), and the rows whose lastStep/updates differ. */
function compare(a: RowStore, b: RowStore, R: number): { w: number; m: number; meta: number } {
  const W = a.width;
  let w = 0,
    m = 0,
    meta = 0;
  const mom = (s: RowStore, r: number, j: number) => {
    if (s.dtype === 'float32') return s.data[r * s.stride + s.momOff + j];
    return new Float32Array(new Uint32Array([s.half[2 * (r * s.stride + s.momOff) + j] << 16]).buffer)[0];
  };
  for (let r = 0; r < R; r++) {
    for (let j = 0; j < W; j++) {
      w = Math.max(w, Math.abs(a.data[r * a.stride + j] - b.data[r * b.stride + j]));
      m = Math.max(m, Math.abs(mom(a, r, j) - mom(b, r, j)));
    }
    if (a.lastStep(r) !== b.lastStep(r)) meta++;
    if (a.updates(r) !== b.updates(r)) meta++;
  }
  return { w, m, meta };
}

describe('WebAssembly SIMD sparse Lion kernel', () => {
  for (const dtype of ['float32', 'bfloat16'] as const) {
    for (const mode of ['lazy', 'decayed', 'exact'] as SparseMode[]) {
      it(
        `${dtype} momentum, ${mode}: equals the JS kernel ` +
          `(widths 16, 9, 5, 4, 3, 2, 1; own linear settings; duplicates; idle gaps)`,
        () => {
          const rand = rng(dtype === 'float32' ? 7 : 11);
          for (const W of [16, 9, 5, 4, 3, 2, 1]) {
            const R = 400,
              B = 1500,
              F = 2;
            const { I, col } = slotColumns(W, F, 3);
            const { a, b, rg, k } = kernels(W, R, dtype, rand, B);
            const group: SparseLionGroup = {
              embedding: { lr: 1e-2, beta1: 0.9, beta2: 0.99, weightDecay: 0.1 },
              linear: { lr: 3e-2, beta1: 0.8, beta2: 0.95, weightDecay: 0.3 },
              mode,
            };
            let step = 0;
            for (let it = 0; it < 20; it++) {
              // skewed ids (many duplicates, some rows idle for many steps), gaps between steps
              const rowIdx = new Int32Array(B * F).map(() => Math.floor(rand() ** 3 * R));
              const gx = new Float32Array(B * I).map(() => rand() - 0.5),
                dl = new Float32Array(B).map(() => rand() - 0.5);
              step += 1 + Math.floor(rand() * 3);
              rg.accumulate({ rowIdx, B, F, gx, I, dlogit: dl }, 1, col, R);
              sparseLionStep(a, rg.rowIds, rg.n, rg.grads, group, step);
              expect(k.step({ rowIdx, B, F, gx, I, dlogit: dl }, 1, col, group, step)).toBe(true);
              expect(k.n).toBe(rg.n);
              expect(Array.from(k.rowIds)).toEqual(Array.from(rg.rowIds.subarray(0, rg.n)));
            }
            const d = compare(a, b, R);
            expect(d.meta, `W ${W}`).toBe(0);
            expect(d.w, `W ${W} weights`).toBeLessThan(TOL);
            // bf16 momentum: the same bf16 value, or one bf16 ulp (2^-8 relative) apart at a rounding tie
            expect(d.m, `W ${W} momentum`).toBeLessThan(dtype === 'float32' ? TOL : 2e-3);
          }
        },
      );
    }
  }

  it(
    'dedupe + segment-sum: the same unique rows and the same sums as the JS kernel ' +
      '(widths 1-6, 16, 17; batches of 1 to 3000; -0 gradients)',
    () => {
      const rand = rng(31);
      let mismatches = 0,
        checked = 0,
        firstBad = '',
        step = 0;
      for (const W of [1, 2, 3, 4, 5, 6, 16, 17]) {
        const R = 500,
          F = 3,
          f = 1;
        const { I, col } = slotColumns(W, F, 2);
        const rows = new RowStore(W, R),
          k = new WasmSparseLion(rows),
          rg = new RowGradients(W, 3000);
        const group: SparseLionGroup = {
          embedding: { lr: 1e-3, beta1: 0.9, beta2: 0.99, weightDecay: 0 },
          mode: 'lazy',
        };
        for (const B of [1, 3000, 7, 64, 65, 2, 1000]) {
          // skewed ids: many duplicates; every 5th gradient -0 (a sum of -0s is +0 in wasm: equal as numbers)
          const rowIdx = new Int32Array(B * F).map(() => Math.floor(rand() ** 2 * R));
          const gx = new Float32Array(B * I).map((_, i) => (i % 5 === 0 ? -0 : rand() - 0.5)),
            dl = new Float32Array(B).map(() => rand() - 0.5);
          rg.accumulate({ rowIdx, B, F, gx, I, dlogit: dl }, f, col, R);
          expect(k.step({ rowIdx, B, F, gx, I, dlogit: dl }, f, col, group, ++step)).toBe(true);
          expect(Array.from(k.rowIds), `W ${W} B ${B}`).toEqual(Array.from(rg.rowIds.subarray(0, rg.n)));
          const s = k.sums;
          for (let i = 0; i < rg.n * W; i++, checked++)
            if (s[i] !== rg.grads[i]) {
              mismatches++;
              firstBad ||= `W ${W} B ${B} [${i}]: ${s[i]} vs ${rg.grads[i]}`;
            }
        }
      }
      expect(checked).toBeGreaterThan(50000);
      expect(mismatches, firstBad).toBe(0);
    },
  );

  for (const mode of ['decayed', 'exact'] as SparseMode[]) {
    it(
      `${mode} under warm-up + cosine: equals the JS kernel, ` +
        `idle ranges before, across and inside the constant tail`,
      () => {
        const rand = rng(mode === 'exact' ? 21 : 23);
        const sched: LrSchedule = { kind: 'cosine', timescaleSteps: 40, warmupSteps: 10, floor: 0.2 };
        const lrAt = lrFunction(sched);
        expect(lrAt.constantFrom).toBe(40);
        const W = 16,
          R = 60,
          B = 40;
        const { a, b, rg, k } = kernels(W, R, 'float32', rand, B);
        const group: SparseLionGroup = {
          embedding: { lr: 1e-2, beta1: 0.9, beta2: 0.99, weightDecay: 0.5 },
          linear: { lr: 2e-2, beta1: 0.95, beta2: 0.98, weightDecay: 0.1 },
          mode,
        };
        expect(wasmKernelCovers(group, lrAt)).toBe(true);
        for (let step = 0; step < 120; step++) {
          // few rows per step: most idle ranges are long, many start before step 40 and end after it
          const ids = new Int32Array(B).map(() => Math.floor(rand() * R));
          const n = step % 7 === 0 ? B : 3;
          const gx = new Float32Array(n * 15).map(() => rand() - 0.5),
            dl = new Float32Array(n).map(() => rand() - 0.5);
          rg.accumulate({ rowIdx: ids, B: n, F: 1, gx, I: 15, dlogit: dl }, 0, 0, R);
          sparseLionStep(a, rg.rowIds, rg.n, rg.grads, group, step, lrAt, false);
          expect(k.step({ rowIdx: ids, B: n, F: 1, gx, I: 15, dlogit: dl }, 0, 0, group, step, lrAt)).toBe(true);
        }
        const d = compare(a, b, R);
        expect(d.meta).toBe(0);
        expect(d.w).toBeLessThan(TOL);
        expect(d.m).toBeLessThan(TOL);
      },
    );
  }

  it('a catch-up mode under a schedule that never turns constant is left to the JS kernel', () => {
    const lrAt = lrFunction({ kind: 'inverse-sqrt', timescaleSteps: 5, warmupSteps: 0, floor: 0 });
    expect(
      wasmKernelCovers({ embedding: { lr: 1e-2, beta1: 0.9, beta2: 0.99, weightDecay: 0 }, mode: 'exact' }, lrAt),
    ).toBe(false);
    expect(
      wasmKernelCovers({ embedding: { lr: 1e-2, beta1: 0.9, beta2: 0.99, weightDecay: 0 }, mode: 'lazy' }, lrAt),
    ).toBe(true);
    const [, b] = twin(4, 4, 'float32', rng(1));
    expect(() =>
      new WasmSparseLion(b).step(
        { rowIdx: new Int32Array([0]), B: 1, F: 1, gx: new Float32Array(3), I: 3, dlogit: new Float32Array(1) },
        0,
        0,
        { embedding: { lr: 1e-2, beta1: 0.9, beta2: 0.99, weightDecay: 0 }, mode: 'exact' },
        0,
        lrAt,
      ),
    ).toThrow(/needs an lr schedule with a constant tail/);
  });

  it('exact catch-up past the power tables (a row idle 70,000 steps) equals the JS kernel', () => {
    const rand = rng(3);
    const { a, b, rg, k } = kernels(16, 8, 'float32', rand);
    const group: SparseLionGroup = {
      embedding: { lr: 1e-4, beta1: 0.9, beta2: 0.99, weightDecay: 0.5 },
      linear: { lr: 2e-4, beta1: 0.9, beta2: 0.999, weightDecay: 0 },
      mode: 'exact',
    };
    const before = b.getWeights(2);
    for (const step of [0, 70_000, 70_001]) {
      const ids = new Int32Array([1, 2, 1, 5]),
        gx = new Float32Array(4 * 15).map(() => rand() - 0.5),
        dl = new Float32Array(4).map(() => rand() - 0.5);
      rg.accumulate({ rowIdx: ids, B: 4, F: 1, gx, I: 15, dlogit: dl }, 0, 0, 8);
      sparseLionStep(a, rg.rowIds, rg.n, rg.grads, group, step);
      k.step({ rowIdx: ids, B: 4, F: 1, gx, I: 15, dlogit: dl }, 0, 0, group, step);
    }
    const d = compare(a, b, 8);
    expect(d.meta).toBe(0);
    expect(d.w).toBeLessThan(TOL);
    // the catch-up did act: 70,000 idle steps of decay (a^k = e^-3.5) and sign drift
    // lr (1 - a^k) / (1 - a) = 1.94 moved every embedding weight of row 2 by over 1
    const after = b.getWeights(2);
    for (let j = 1; j < 16; j++) expect(Math.abs(after[j] - before[j]), `column ${j}`).toBeGreaterThan(1);
  });

  it('rows keep their values and new rows are zero when the table grows past the scratch', () => {
    const rand = rng(5);
    const { a, b, rg, k } = kernels(16, 64, 'float32', rand);
    const group: SparseLionGroup = { embedding: { lr: 1e-2, beta1: 0.9, beta2: 0.99, weightDecay: 0.1 } };
    let R = 64;
    for (let step = 0; step < 6; step++) {
      const B = 3000,
        ids = new Int32Array(B).map(() => Math.floor(rand() * R));
      const gx = new Float32Array(B * 15).map(() => rand() - 0.5),
        dl = new Float32Array(B).map(() => rand() - 0.5);
      rg.accumulate({ rowIdx: ids, B, F: 1, gx, I: 15, dlogit: dl }, 0, 0, R);
      sparseLionStep(a, rg.rowIds, rg.n, rg.grads, group, step);
      expect(k.step({ rowIdx: ids, B, F: 1, gx, I: 15, dlogit: dl }, 0, 0, group, step)).toBe(true);
      // double the rows: the new ones take the place of the old scratch, and must read as zero
      a.grow(2 * R);
      b.grow(2 * R);
      let nonZero = 0;
      for (let r = R; r < 2 * R; r++) {
        for (let j = 0; j < b.stride; j++) if (b.words[r * b.stride + j] !== 0) nonZero++;
        a.setLastStep(r, step);
        b.setLastStep(r, step);
      }
      expect(nonZero, `words of new rows ${R}..${2 * R - 1} not zero`).toBe(0);
      R *= 2;
    }
    expect(b.memory).not.toBeNull();
    const d = compare(a, b, R);
    expect(d.meta).toBe(0);
    expect(d.w).toBeLessThan(TOL);
  });
});
