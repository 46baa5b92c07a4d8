/**
 * AdamW (Loshchilov & Hutter 2019, Algorithm 2; Kingma & Ba 2015 for the moments), kept
 * for comparison with Lion only: the same groups, schedule and lazy sparse handling.
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  mh = m / (1 - b1^t);  vh = v / (1 - b2^t)
 *   theta <- theta - lr (mh / (sqrt(vh) + eps) + wd theta)
 * t is the global step (1-based), as in TF's LazyAdam.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LionctrError } from '../../errors.ts';
import type { DenseTransform } from './dense-chain.ts';
import type { SparseRows } from './sparse-lion.ts';

/** AdamW settings of one parameter group (lr, betas, decoupled weight decay, eps). */
export interface AdamParams {
  lr: number;
  beta1: number;
  beta2: number;
  weightDecay: number;
  eps: number;
}

/**
 * Dense AdamW over tfjs variables as the link of a dense chain (dense-chain.ts): yields
 * mh / (sqrt(vh) + eps) + wd theta per variable, the chain's scaleByLearningRate multiplies
 * by lr. Two moment variables per parameter.
 */
export class DenseAdam implements DenseTransform {
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  /** Steps taken (t - 1 of the next step). */
  step = 0;
  /** @param params one setting per variable (its lr is the chain's, not used here). */
  constructor(
    private readonly vars: tf.Variable[],
    private readonly params: AdamParams[],
  ) {
    this.m = vars.map((x) => tf.tidy(() => tf.variable(tf.zerosLike(x), false)));
    this.v = vars.map((x) => tf.tidy(() => tf.variable(tf.zerosLike(x), false)));
  }

  /** The chain link (call inside tf.tidy): one step of both moments, one direction per variable. */
  update(grads: tf.Tensor[]): tf.Tensor[] {
    this.step++;
    const t = this.step;
    return this.vars.map((x, i) => {
      const { beta1, beta2, weightDecay, eps } = this.params[i];
      const g = grads[i],
        m = this.m[i],
        v = this.v[i];
      m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
      v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
      const mh = tf.div(m, 1 - beta1 ** t),
        vh = tf.div(v, 1 - beta2 ** t);
      return tf.add(tf.div(mh, tf.add(tf.sqrt(vh), eps)), tf.mul(x, weightDecay));
    });
  }

  /** Frees the moment variables. */
  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}

/**
 * Lazy sparse AdamW on the touched rows of one table: the first moment lives in the
 * rows' momentum (float32 only), the second in `second` [capacity, W].
 * @param rowIds [n] unique rows; @param grads [n, W] their summed gradients.
 * @param t global step, 1-based; @param lrScale the schedule's multiplier at this step.
 * @throws LionctrError LIONCTR_INTERNAL for bfloat16 momentum.
 */
export function sparseAdamStep(
  rows: SparseRows,
  second: Float32Array,
  rowIds: Int32Array,
  n: number,
  grads: Float32Array,
  emb: AdamParams,
  lin: AdamParams,
  t: number,
  lrScale: number,
): void {
  if (rows.dtype !== 'float32') throw new LionctrError('LIONCTR_INTERNAL', 'sparse AdamW needs float32 momentum');
  const W = rows.width;
  for (let i = 0; i < n; i++) {
    const r = rowIds[i],
      d = rows.dataOf(r),
      o = rows.weightsAt(r),
      om = rows.momentumAt(r),
      vo = r * W,
      go = i * W;
    for (let j = 0; j < W; j++) {
      const p = j === 0 ? lin : emb;
      const g = grads[go + j];
      const m = p.beta1 * d[om + j] + (1 - p.beta1) * g;
      d[om + j] = m;
      const v = p.beta2 * second[vo + j] + (1 - p.beta2) * g * g;
      second[vo + j] = v;
      const mh = m / (1 - p.beta1 ** t),
        vh = v / (1 - p.beta2 ** t);
      d[o + j] -= p.lr * lrScale * (mh / (Math.sqrt(vh) + p.eps) + p.weightDecay * d[o + j]);
    }
    rows.markUpdated(r, t - 1);
  }
}
