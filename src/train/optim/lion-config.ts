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
