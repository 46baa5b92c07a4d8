import * as tf from '@tensorflow/tfjs-core';
import type { LionParams } from './lion-config.ts';

/**
 * Dense Lion over tfjs variables (Chen et al. 2023, Algorithm 2), per coordinate:
 *
 *   c = beta1 * m + (1 - beta1) * g
 *   theta = theta - lr * (sign(c) + wd * theta)
 *   m = beta2 * m + (1 - beta2) * g
 *
 * State: one momentum variable per parameter (same shape, float32). sign(0) = 0 as in optax.
 */
/**
 * One Lion step of variable v with momentum m and gradient g (call inside tf.tidy):
 *   c = beta1 m + (1 - beta1) g;  v <- v - lr (sign(c) + wd v);  m <- beta2 m + (1 - beta2) g
 */
export function lionUpdate(v: tf.Variable, m: tf.Variable, g: tf.Tensor, p: LionParams): void {
  const c = tf.add(tf.mul(m, p.beta1), tf.mul(g, 1 - p.beta1));
  let upd = tf.sign(c);
  if (p.weightDecay !== 0) upd = tf.add(upd, tf.mul(v, p.weightDecay));
  v.assign(tf.sub(v, tf.mul(upd, p.lr)));
  m.assign(tf.add(tf.mul(m, p.beta2), tf.mul(g, 1 - p.beta2)));
}

export class DenseLion {
  /** Settings per variable. */
  readonly params: LionParams[];
  private readonly vars: tf.Variable[];
  private readonly momentum: tf.Variable[];
  /** Steps taken. */
  step = 0;

  /** Clip the gradients to this global L2 norm before the step (0 = off). */
  readonly clipGlobalNorm: number;

  /**
   * @param params one setting for all variables, or one per variable.
   * @param opts.clipGlobalNorm rescale all gradients together so their global L2 norm is at
   *   most this (Pascanu et al. 2013, sec. 3.2); 0 or absent = no clipping.
   */
  constructor(vars: tf.Variable[], params: LionParams | LionParams[], opts: { clipGlobalNorm?: number } = {}) {
    this.clipGlobalNorm = opts.clipGlobalNorm ?? 0;
    this.vars = vars;
    this.params = Array.isArray(params) ? params : vars.map(() => params);
    if (this.params.length !== vars.length) throw new Error(`DenseLion: ${this.params.length} settings for ${vars.length} variables`);
    this.momentum = vars.map((v) => tf.variable(tf.zerosLike(v), false, `${v.name}/lion_m`));
  }

  /**
   * Applies one step. @param grads one gradient per variable, same shapes (not disposed here).
   * @param lrScale multiplier of every lr (the lr schedule's value at this step).
   * @throws Error when the number of gradients differs from the number of variables.
   */
  apply(grads: tf.Tensor[], lrScale = 1): void {
    if (grads.length !== this.vars.length) throw new Error(`DenseLion: ${grads.length} gradients for ${this.vars.length} variables`);
    tf.tidy(() => {
      let scale: tf.Scalar | number = 1;
      if (this.clipGlobalNorm > 0) {
        const norm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
        scale = tf.div(this.clipGlobalNorm, tf.maximum(norm, this.clipGlobalNorm)) as tf.Scalar;
      }
      for (let i = 0; i < this.vars.length; i++) {
        const { beta1, beta2, weightDecay } = this.params[i];
        const lr = this.params[i].lr * lrScale;
        lionUpdate(this.vars[i], this.momentum[i], scale === 1 ? grads[i] : tf.mul(grads[i], scale), { lr, beta1, beta2, weightDecay });
      }
    });
    this.step++;
  }

  /** Momentum values for a checkpoint: one Float32Array per variable. */
  async getState(): Promise<{ step: number; momentum: Float32Array[] }> {
    return { step: this.step, momentum: await Promise.all(this.momentum.map(async (m) => (await m.data()) as Float32Array)) };
  }

  /** Restores getState()'s output. @throws Error on a shape mismatch. */
  setState(s: { step: number; momentum: Float32Array[] }): void {
    if (s.momentum.length !== this.momentum.length) throw new Error('DenseLion.setState: variable count mismatch');
    this.step = s.step;
    this.momentum.forEach((m, i) => {
      if (s.momentum[i].length !== m.size) throw new Error(`DenseLion.setState: size mismatch for ${m.name}`);
      tf.tidy(() => m.assign(tf.tensor(s.momentum[i], m.shape)));
    });
  }

  dispose(): void { this.momentum.forEach((m) => m.dispose()); }
}
