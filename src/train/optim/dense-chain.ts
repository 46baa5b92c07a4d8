/**
 * A dense optimizer as a chain of small transformations of the gradients, after optax
 * (`combine.chain`; `optax.lion` = chain(scale_by_lion, add_decayed_weights,
 * scale_by_learning_rate)): each link turns one update per variable into another, and the
 * chain subtracts the last from the variables. The trainer's dense side is
 *   clipByGlobalNorm (optional) -> DenseLion (or DenseAdam) -> scaleByLearningRate (lr x schedule)
 * so clipping and the schedule are links, not options of the optimizer.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LrFunction } from './schedule.ts';

/** One link of a dense chain (optax's GradientTransformation, its state kept inside). */
export interface DenseTransform {
  /**
   * Turns the updates of one step into the next link's (call inside tf.tidy): one tensor per
   * variable, same shapes as the variables; the inputs are not disposed or changed.
   * @param step the global step being taken (0-based).
   */
  update(updates: tf.Tensor[], step: number): tf.Tensor[];
}

/** Variables and the links that make their update: theta <- theta - chain(g). */
export class DenseChain {
  constructor(
    readonly vars: tf.Variable[],
    readonly links: DenseTransform[],
  ) {}

  /**
   * One step: passes the gradients (one per variable, same shapes, not disposed here)
   * through every link in order and subtracts the result from the variables.
   * @param step the global step (0-based), for the links that depend on it (the schedule).
   */
  apply(grads: tf.Tensor[], step: number): void {
    applyChain(this.vars, this.links, grads, step);
  }
}

/** DenseChain.apply() of a chain made for one call. */
export function applyChain(vars: tf.Variable[], links: DenseTransform[], grads: tf.Tensor[], step: number): void {
  tf.tidy(() => {
    let u = grads;
    for (const link of links) u = link.update(u, step);
    for (let i = 0; i < vars.length; i++) vars[i].assign(tf.sub(vars[i], u[i]));
  });
}

/**
 * Rescales all updates together so that their global L2 norm is at most `maxNorm`
 * (Pascanu et al. 2013, sec. 3.2; optax `clip_by_global_norm`):
 * u <- u * maxNorm / max(||u||, maxNorm).
 */
export function clipByGlobalNorm(maxNorm: number): DenseTransform {
  return {
    update(u: tf.Tensor[]): tf.Tensor[] {
      const norm = tf.sqrt(tf.addN(u.map((g) => tf.sum(tf.square(g)))));
      const scale = tf.div(maxNorm, tf.maximum(norm, maxNorm)) as tf.Scalar;
      return u.map((g) => tf.mul(g, scale));
    },
  };
}

/**
 * Multiplies the update of variable i by its learning rate at the step:
 * u_i <- u_i * lr_i * lrAt(step) (optax `scale_by_learning_rate` with a schedule, without
 * the sign flip: the chain subtracts).
 * @param lr one learning rate per variable.
 * @param lrAt the schedule's multiplier of a step (schedule.ts).
 */
export function scaleByLearningRate(lr: number[], lrAt: LrFunction): DenseTransform {
  return {
    update(u: tf.Tensor[], step: number): tf.Tensor[] {
      const mult = lrAt(step);
      return u.map((x, i) => tf.mul(x, lr[i] * mult));
    },
  };
}
