/** Lion's settings per parameter group and their conversion from AdamW settings. @module */

/**
 * Lion hyper-parameters of one parameter group (Chen et al. 2023, "Symbolic Discovery of
 * Optimization Algorithms", Algorithm 2). Defaults beta1 = 0.9, beta2 = 0.99 as in the paper.
 */
export interface LionParams {
  /** Learning rate (step size of the sign update). */
  lr: number;
  beta1: number;
  beta2: number;
  /** Decoupled weight decay, applied as theta -= lr * wd * theta. */
  weightDecay: number;
}

export const LION_DEFAULTS: Omit<LionParams, 'lr'> = { beta1: 0.9, beta2: 0.99, weightDecay: 0 };

/**
 * Lion settings from AdamW ones by the paper's advice (Chen et al. 2023, sec. 5
 * "Hyperparameter tuning"): Lion's update has a larger norm (sign), so its lr is typically
 * 3-10x smaller than AdamW's and its decoupled weight decay 3-10x larger, keeping lr * wd
 * (the effective decay) about the same. betas are kept.
 * @param factor the 3..10 factor (lr / factor, wd * factor).
 * @throws RangeError when factor is outside [1, 100].
 */
export function lionFromAdamW(adamw: LionParams, factor: number): LionParams {
  if (!(factor >= 1 && factor <= 100)) throw new RangeError(`factor must be in [1, 100], got ${factor}`);
  return { ...adamw, lr: adamw.lr / factor, weightDecay: adamw.weightDecay * factor };
}
