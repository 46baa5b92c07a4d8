/** Learning-rate schedules: the multiplier of every group's lr at a step. @module */

/**
 * Learning-rate schedules as a multiplier of the configured lr, a function of the global
 * step t (0-based):
 *   constant:      1
 *   inverse-sqrt:  max(floor, 1 / sqrt(1 + t / timescale))  (Vaswani et al. 2017 sec. 5.3; the floor keeps
 *                  a long-running online trainer able to follow drift)
 *   cosine:        floor + (1 - floor) * (1 + cos(pi * min(t, T) / T)) / 2, T = timescale
 *                  (Loshchilov & Hutter 2017, SGDR eq. 5, one cycle)
 * with an optional linear warm-up over the first `warmupSteps` steps (multiplier (t+1)/warmup).
 */
export interface LrSchedule {
  kind: 'constant' | 'inverse-sqrt' | 'cosine';
  /** Steps; the decay's time scale (inverse-sqrt) or its length (cosine). */
  timescaleSteps: number;
  /** Steps of linear warm-up (0 = none). */
  warmupSteps: number;
  /** Smallest multiplier (inverse-sqrt) or final one (cosine). */
  floor: number;
}

export const CONSTANT_LR: LrSchedule = { kind: 'constant', timescaleSteps: 1, warmupSteps: 0, floor: 0 };

/** The lr multiplier at step t. */
export function lrMultiplier(s: LrSchedule, t: number): number {
  const warm = s.warmupSteps > 0 && t < s.warmupSteps ? (t + 1) / s.warmupSteps : 1;
  switch (s.kind) {
    case 'constant':
      return warm;
    case 'inverse-sqrt':
      return warm * Math.max(s.floor, 1 / Math.sqrt(1 + t / s.timescaleSteps));
    case 'cosine': {
      const T = s.timescaleSteps,
        x = Math.min(t, T) / T;
      return warm * (s.floor + ((1 - s.floor) * (1 + Math.cos(Math.PI * x))) / 2);
    }
  }
}

/**
 * An lr multiplier as a function of the step, with the first step of its constant tail
 * when it has one (ScheduleSums stores prefixes only up to there).
 */
export type LrFunction = ((s: number) => number) & { constantFrom?: number };

/**
 * The first step from which the multiplier no longer changes: the end of warm-up, and
 * for inverse-sqrt the step where 1/sqrt(1 + t/timescale) reaches the floor, for cosine
 * the timescale. Infinity for inverse-sqrt with floor 0.
 */
export function constantFrom(s: LrSchedule): number {
  const warm = s.warmupSteps;
  switch (s.kind) {
    case 'constant':
      return Math.max(0, warm - 1); // (t + 1) / warm-up is 1 at t = warm-up - 1
    case 'inverse-sqrt': {
      if (!(s.floor > 0)) return Infinity;
      // first t with 1/sqrt(1 + t/T) <= floor, checked against lrMultiplier itself
      let t = Math.max(0, Math.ceil(s.timescaleSteps * (1 / (s.floor * s.floor) - 1)) - 2);
      while (Math.max(s.floor, 1 / Math.sqrt(1 + t / s.timescaleSteps)) !== s.floor) t++;
      return Math.max(warm, t);
    }
    case 'cosine':
      return Math.max(warm, s.timescaleSteps);
  }
}

/** lrMultiplier of a schedule as an LrFunction (with its constant tail). */
export function lrFunction(s: LrSchedule): LrFunction {
  return Object.assign((t: number) => lrMultiplier(s, t), { constantFrom: constantFrom(s) });
}
