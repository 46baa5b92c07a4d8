/**
 * Dense Lion over tfjs variables (Chen et al. 2023, Algorithm 2), per coordinate:
 *
 *   c = beta1 * m + (1 - beta1) * g
 *   theta = theta - lr * (sign(c) + wd * theta)
 *   m = beta2 * m + (1 - beta2) * g
 *
 * as tensor ops (the row-wise JS form is lion-rule.ts). State: one momentum variable per
 * parameter (same shape, float32). sign(0) = 0 as in optax. DenseLion is the Lion link of
 * a dense chain (dense-chain.ts: it yields sign(c) + wd theta, the chain's
 * scaleByLearningRate multiplies by lr); apply() runs it alone at a fixed lr multiplier.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LionctrError } from '../../errors.ts';
import { applyChain, scaleByLearningRate, type DenseTransform } from './dense-chain.ts';
import type { LionParams } from './lion-config.ts';

/**
 * Lion's direction for variable v with momentum m and gradient g, before the lr (call
 * inside tf.tidy): returns sign(c) + wd v with c = beta1 m + (1 - beta1) g, and sets
 * m <- beta2 m + (1 - beta2) g.
 */
export function lionDirection(v: tf.Variable, m: tf.Variable, g: tf.Tensor, p: Omit<LionParams, 'lr'>): tf.Tensor {
  const c = tf.add(tf.mul(m, p.beta1), tf.mul(g, 1 - p.beta1));
  let upd = tf.sign(c);
  if (p.weightDecay !== 0) upd = tf.add(upd, tf.mul(v, p.weightDecay));
  m.assign(tf.add(tf.mul(m, p.beta2), tf.mul(g, 1 - p.beta2)));
  return upd;
}

/**
 * One Lion step of variable v with momentum m and gradient g (call inside tf.tidy):
 *   c = beta1 m + (1 - beta1) g;  v <- v - lr (sign(c) + wd v);  m <- beta2 m + (1 - beta2) g
 */
export function lionUpdate(v: tf.Variable, m: tf.Variable, g: tf.Tensor, p: LionParams): void {
  v.assign(tf.sub(v, tf.mul(lionDirection(v, m, g, p), p.lr)));
}

/** The Lion link of a dense chain over tfjs variables, owning their momentum (see the module doc). */
export class DenseLion implements DenseTransform {
  /** Settings per variable. */
  readonly params: LionParams[];
  private readonly vars: tf.Variable[];
  private readonly momentum: tf.Variable[];
  /** Steps taken. */
  step = 0;

  /**
   * @param params one setting for all variables, or one per variable.
   * @throws LionctrError LIONCTR_INTERNAL when there are more or fewer settings than variables.
   */
  constructor(vars: tf.Variable[], params: LionParams | LionParams[]) {
    this.vars = vars;
    this.params = Array.isArray(params) ? params : vars.map(() => params);
    if (this.params.length !== vars.length) {
      const msg = `DenseLion: ${this.params.length} settings for ${vars.length} variables`;
      throw new LionctrError('LIONCTR_INTERNAL', msg);
    }
    this.momentum = vars.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false, `${v.name}/lion_m`)));
  }

  /**
   * The chain link (call inside tf.tidy): per variable sign(c) + wd theta, momentum updated.
   * @param grads one gradient per variable, same shapes (not disposed here).
   * @throws LionctrError LIONCTR_INTERNAL when the number of gradients differs from the number of variables.
   */
  update(grads: tf.Tensor[]): tf.Tensor[] {
    if (grads.length !== this.vars.length) {
      const msg = `DenseLion: ${grads.length} gradients for ${this.vars.length} variables`;
      throw new LionctrError('LIONCTR_INTERNAL', msg);
    }
    const out = this.vars.map((v, i) => lionDirection(v, this.momentum[i], grads[i], this.params[i]));
    this.step++;
    return out;
  }

  /**
   * Applies one step on its own (no clipping): theta <- theta - lr lrScale (sign(c) + wd theta).
   * @param grads one gradient per variable, same shapes (not disposed here).
   * @param lrScale multiplier of every lr (an lr schedule's value at this step).
   * @throws LionctrError LIONCTR_INTERNAL when the number of gradients differs from the number of variables.
   */
  apply(grads: tf.Tensor[], lrScale = 1): void {
    applyChain(
      this.vars,
      [
        this,
        scaleByLearningRate(
          this.params.map((p) => p.lr),
          () => lrScale,
        ),
      ],
      grads,
      this.step,
    );
  }

  /** Momentum values for a checkpoint: one Float32Array per variable. */
  async getState(): Promise<{ step: number; momentum: Float32Array[] }> {
    return {
      step: this.step,
      momentum: await Promise.all(this.momentum.map(async (m) => (await m.data()) as Float32Array)),
    };
  }

  /**
   * Restores getState()'s output.
   * @throws LionctrError LIONCTR_BAD_CHECKPOINT when the number or sizes of the variables differ.
   */
  setState(s: { step: number; momentum: Float32Array[] }): void {
    if (s.momentum.length !== this.momentum.length) {
      throw new LionctrError('LIONCTR_BAD_CHECKPOINT', 'DenseLion.setState: variable count mismatch');
    }
    this.step = s.step;
    this.momentum.forEach((m, i) => {
      if (s.momentum[i].length !== m.size) {
        throw new LionctrError('LIONCTR_BAD_CHECKPOINT', `DenseLion.setState: size mismatch for ${m.name}`);
      }
      tf.tidy(() => m.assign(tf.tensor(s.momentum[i], m.shape)));
    });
  }

  /** Frees the momentum variables. */
  dispose(): void {
    for (const m of this.momentum) m.dispose();
  }
}
