import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/model/backend.ts';
import { DenseLion } from '../src/train/optim/dense-lion.ts';
import { RowGradients } from '../src/train/optim/row-gradients.ts';
import { sparseLionStep } from '../src/train/optim/sparse-lion.ts';
import { LION_GOLDEN, haveShared } from './helpers/shared.ts';

// Golden trajectories from optax 0.2.8 (optax.lion, float32); tolerance 1e-6 absolute as
// the golden README advises for float32.
const TOL = 1e-6;
const have = haveShared(LION_GOLDEN);
const golden = have ? JSON.parse(readFileSync(LION_GOLDEN, 'utf8')) : {};

interface DenseCase { lr: number; beta1: number; beta2: number; weight_decay: number; shape: number[]; init: number[]; grads: number[][]; expected_params_after_each_step: number[][] }
interface TableCase { rows: number; dim: number; lr: number; beta1: number; beta2: number; weight_decay: number; init: number[][]; steps: { ids: number[]; grads: number[][] }[]; expected_lazy_semantics: number[][][] }

const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };

describe.skipIf(!have)('Lion against optax golden trajectories', () => {
  beforeAll(async () => { await selectBackend('auto'); });

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
      opt.dispose(); v.dispose();
    });
  }

  for (const name of ['table_nowd', 'table_wd']) {
    it(`sparse lazy Lion (dedupe + segment sum + step) matches ${name}.expected_lazy_semantics`, () => {
      const c = golden[name] as TableCase;
      const W = c.dim;
      const rows = { width: W, weights: new Float32Array(flat(c.init)), momentum: new Float32Array(c.rows * W), lastStep: new Int32Array(c.rows).fill(-1), updates: new Int32Array(c.rows) };
      const params = { lr: c.lr, beta1: c.beta1, beta2: c.beta2, weightDecay: c.weight_decay };
      const rg = new RowGradients(W);
      let sawDuplicate = false;
      c.steps.forEach((s, t) => {
        const n = s.ids.length;
        sawDuplicate ||= new Set(s.ids).size < n;
        // RowGradients reads column 0 from dlogit and columns 1..W-1 from the tower-input gradient
        const dlogit = new Float32Array(s.grads.map((g) => g[0]));
        const gx = new Float32Array(s.grads.flatMap((g) => g.slice(1)));
        rg.accumulate(new Int32Array(s.ids), n, 1, 0, gx, W - 1, 0, dlogit, c.rows);
        sparseLionStep(rows, rg.rowIds, rg.n, rg.grads, { embedding: params }, t);
        expect(maxAbsDiff(rows.weights, flat(c.expected_lazy_semantics[t]))).toBeLessThan(TOL);
      });
      expect(sawDuplicate).toBe(true); // the case exercises duplicate-id summing
    });
  }
});
