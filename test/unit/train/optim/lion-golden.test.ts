import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/model/backend.ts';
import { DenseLion } from '../../../../src/train/optim/dense-lion.ts';
import { RowGradients } from '../../../../src/train/optim/row-gradients.ts';
import { sparseLionStep, type SparseMode } from '../../../../src/train/optim/sparse-lion.ts';
import { RowStore } from '../../../../src/model/row-store.ts';
import { WasmSparseLion } from '../../../../src/train/optim/wasm/sparse-kernel.ts';
import { LION_GOLDEN, haveShared } from '../../../helpers/shared.ts';

// Golden trajectories from optax 0.2.8 (optax.lion, float32); tolerance 1e-6 absolute as
// the golden README advises for float32.
const TOL = 1e-6;
const have = haveShared(LION_GOLDEN);
const golden = have ? JSON.parse(readFileSync(LION_GOLDEN, 'utf8')) : {};

interface DenseCase {
  lr: number;
  beta1: number;
  beta2: number;
  weight_decay: number;
  shape: number[];
  init: number[];
  grads: number[][];
  expected_params_after_each_step: number[][];
}
interface TableCase {
  rows: number;
  dim: number;
  lr: number;
  beta1: number;
  beta2: number;
  weight_decay: number;
  init: number[][];
  steps: { ids: number[]; grads: number[][] }[];
  expected_lazy_semantics: number[][][];
  expected_dense_semantics: number[][][];
}

type Kernel = 'js' | 'wasm';
const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe.skipIf(!have)('Lion against optax golden trajectories', () => {
  beforeAll(async () => {
    await selectBackend('auto');
  });

  for (const name of ['dense_default', 'dense_wd', 'dense_betas']) {
    it(`dense Lion (tfjs) matches ${name} at every step`, () => {
      const c = golden[name] as DenseCase;
      const v = tf.variable(tf.tensor(flat(c.init), c.shape));
      const opt = new DenseLion([v], { lr: c.lr, beta1: c.beta1, beta2: c.beta2, weightDecay: c.weight_decay });
      c.grads.forEach((g, t) => {
        const gt = tf.tensor(flat(g), c.shape);
        opt.apply([gt]);
        gt.dispose();
        expect(maxAbsDiff(v.dataSync(), flat(c.expected_params_after_each_step[t]))).toBeLessThan(TOL);
      });
      expect(c.grads.length).toBeGreaterThan(5);
      opt.dispose();
      v.dispose();
    });
  }

  /**
   * Runs a table case through the real dedupe + sparse step of a kernel (the JS one, or the
   * WebAssembly SIMD one); calls check(t, weights) after each step.
   */
  const runTable = (
    c: TableCase,
    mode: SparseMode,
    dtype: 'float32' | 'bfloat16',
    check: (t: number, w: Float32Array) => void,
    kernel: Kernel = 'js',
  ) => {
    const W = c.dim;
    const rows = new RowStore(W, c.rows, dtype);
    const init = flat(c.init);
    for (let r = 0; r < c.rows; r++) {
      rows.setWeights(r, init.slice(r * W, (r + 1) * W));
      rows.setLastStep(r, -1);
    }
    const params = { lr: c.lr, beta1: c.beta1, beta2: c.beta2, weightDecay: c.weight_decay };
    const rg = new RowGradients(W);
    const wasm = kernel === 'wasm' ? new WasmSparseLion(rows) : null;
    c.steps.forEach((s, t) => {
      const n = s.ids.length;
      // RowGradients reads column 0 from dlogit and columns 1..W-1 from the tower-input gradient
      const dlogit = new Float32Array(s.grads.map((g) => g[0]));
      const gx = new Float32Array(s.grads.flatMap((g) => g.slice(1)));
      if (wasm)
        expect(
          wasm.step(
            { rowIdx: new Int32Array(s.ids), B: n, F: 1, gx, I: W - 1, dlogit },
            0,
            0,
            { embedding: params, mode },
            t,
          ),
        ).toBe(true);
      else {
        rg.accumulate({ rowIdx: new Int32Array(s.ids), B: n, F: 1, gx, I: W - 1, dlogit }, 0, 0, c.rows);
        sparseLionStep(rows, rg.rowIds, rg.n, rg.grads, { embedding: params, mode }, t);
      }
      check(t, rows.packedWeights(c.rows));
    });
    return rows;
  };

  for (const name of ['table_nowd', 'table_wd']) {
    for (const [dtype, kernel] of [
      ['float32', 'js'],
      ['bfloat16', 'js'],
      ['float32', 'wasm'],
      ['bfloat16', 'wasm'],
    ] as const) {
      const variant = `${name}, ${dtype} momentum, ${kernel} kernel`;
      it(`${variant}: lazy mode matches expected_lazy_semantics at every step`, () => {
        const c = golden[name] as TableCase;
        expect(c.steps.some((s) => new Set(s.ids).size < s.ids.length)).toBe(true); // exercises duplicate-id summing
        runTable(
          c,
          'lazy',
          dtype,
          (t, w) => expect(maxAbsDiff(w, flat(c.expected_lazy_semantics[t])), `step ${t}`).toBeLessThan(TOL),
          kernel,
        );
      });

      it(`${variant}: exact mode matches expected_dense_semantics at every touched row`, () => {
        const c = golden[name] as TableCase;
        // exact mode brings a row up to date when it is touched (idle rows catch up later),
        // so each step compares the rows it touched
        runTable(
          c,
          'exact',
          dtype,
          (t, w) => {
            const want = flat(c.expected_dense_semantics[t]);
            for (const r of new Set(c.steps[t].ids)) {
              expect(
                maxAbsDiff(w.subarray(r * c.dim, (r + 1) * c.dim), want.slice(r * c.dim, (r + 1) * c.dim)),
                `step ${t} row ${r}`,
              ).toBeLessThan(TOL);
            }
          },
          kernel,
        );
      });
    }

    for (const kernel of ['js', 'wasm'] as const)
      it(`${name}, ${kernel} kernel: decayed mode matches a float64 re-derivation`, () => {
        const c = golden[name] as TableCase;
        const { lr, beta1: b1, beta2: b2, weight_decay: wd, dim: D } = c;
        const th = flat(c.init),
          m = new Array(th.length).fill(0);
        const sign = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0);
        runTable(
          c,
          'decayed',
          'float32',
          (t, w) => {
            // reference: every row every step; touched rows take the Lion step with their summed
            // gradient, idle rows only decay (m *= b2, theta *= 1 - lr*wd): no sign drift
            const g = new Map<number, number[]>();
            c.steps[t].ids.forEach((r, i) => {
              g.set(
                r,
                (g.get(r) ?? new Array(D).fill(0)).map((x, j) => x + c.steps[t].grads[i][j]),
              );
            });
            for (let r = 0; r < c.rows; r++)
              for (let j = 0; j < D; j++) {
                const q = r * D + j,
                  gr = g.get(r);
                if (gr) {
                  const cc = b1 * m[q] + (1 - b1) * gr[j];
                  th[q] -= lr * (sign(cc) + wd * th[q]);
                  m[q] = b2 * m[q] + (1 - b2) * gr[j];
                } else {
                  th[q] *= 1 - lr * wd;
                  m[q] *= b2;
                }
              }
            for (const r of new Set(c.steps[t].ids))
              expect(
                maxAbsDiff(w.subarray(r * D, (r + 1) * D), th.slice(r * D, (r + 1) * D)),
                `step ${t} row ${r}`,
              ).toBeLessThan(TOL);
          },
          kernel,
        );
      });
  }
});

describe.skipIf(!have)('LionOptimizer (tf.train-style, serializable)', () => {
  it('minimizes through applyGradients like optax, and round-trips config and weights', async () => {
    await selectBackend('auto');
    const { LionOptimizer } = await import('../../../../src/train/optim/lion-optimizer.ts');
    const c = golden.dense_wd as DenseCase;
    const v = tf.variable(tf.tensor(flat(c.init), c.shape), true, 'golden_dense_wd');
    const opt = new LionOptimizer(c.lr, c.beta1, c.beta2, c.weight_decay);
    c.grads.forEach((g, t) => {
      opt.applyGradients({ golden_dense_wd: tf.tensor(flat(g), c.shape) });
      expect(maxAbsDiff(v.dataSync(), flat(c.expected_params_after_each_step[t]))).toBeLessThan(TOL);
    });
    const cls = tf.serialization.SerializationMap.getMap().classNameMap.Lion;
    expect(cls).toBeDefined();
    const copy = LionOptimizer.fromConfig(LionOptimizer as never, opt.getConfig()) as InstanceType<
      typeof LionOptimizer
    >;
    expect(copy.getConfig()).toEqual(opt.getConfig());
    const weights = await opt.getWeights();
    expect(weights.map((w) => w.name)).toEqual(['iter', 'golden_dense_wd/lion_m']);
    await copy.setWeights(weights);
    expect(copy.iterations).toBe(c.grads.length);
    opt.dispose();
    copy.dispose();
    v.dispose();
  });
});
