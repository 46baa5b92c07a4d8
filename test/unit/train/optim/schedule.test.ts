import { describe, expect, it } from 'vitest';
import { CONSTANT_LR, lrMultiplier } from '../../../../src/train/optim/schedule.ts';

describe('lr schedules', () => {
  it('constant, inverse-sqrt and cosine match their formulas', () => {
    expect(lrMultiplier(CONSTANT_LR, 12345)).toBe(1);
    const inv = { kind: 'inverse-sqrt' as const, timescaleSteps: 100, warmupSteps: 0, floor: 0 };
    expect(lrMultiplier(inv, 0)).toBe(1);
    expect(lrMultiplier(inv, 300)).toBeCloseTo(0.5, 12); // 1/sqrt(1+3)
    expect(lrMultiplier({ ...inv, floor: 0.1 }, 300)).toBeCloseTo(0.5, 12);
    expect(lrMultiplier({ ...inv, floor: 0.1 }, 1e6)).toBe(0.1); // 1/sqrt(10001) < floor
    const cos = { kind: 'cosine' as const, timescaleSteps: 1000, warmupSteps: 0, floor: 0.1 };
    expect(lrMultiplier(cos, 0)).toBeCloseTo(1, 12);
    expect(lrMultiplier(cos, 500)).toBeCloseTo(0.55, 12); // floor + (1-floor)/2
    expect(lrMultiplier(cos, 1000)).toBeCloseTo(0.1, 12);
    expect(lrMultiplier(cos, 5000)).toBeCloseTo(0.1, 12);
  });

  it('warms up linearly', () => {
    const s = { kind: 'constant' as const, timescaleSteps: 1, warmupSteps: 4, floor: 0 };
    expect([0, 1, 2, 3, 4].map((t) => lrMultiplier(s, t))).toEqual([0.25, 0.5, 0.75, 1, 1]);
  });
});
