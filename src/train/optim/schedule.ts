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
    case 'constant': return warm;
    case 'inverse-sqrt': return warm * Math.max(s.floor, 1 / Math.sqrt(1 + t / s.timescaleSteps));
    case 'cosine': {
      const T = s.timescaleSteps, x = Math.min(t, T) / T;
      return warm * (s.floor + (1 - s.floor) * (1 + Math.cos(Math.PI * x)) / 2);
    }
  }
}
