/**
 * Optimizer steps checked against a float64 re-derivation of the same updates, one gradient at
 * a time: the weights after each step must agree to `digits` decimals.
 */
import { expect } from 'vitest';

/**
 * For each gradient `grads[s]` in turn: `step(g, s)` applies it to the optimizer under test and
 * returns the weights after it, then `derive(g, s)` applies it to the float64 re-derivation and
 * returns its weights; every weight must be close to the re-derived one (toBeCloseTo `digits`).
 */
export function expectStepsMatchReference(
  step: (g: number[], s: number) => ArrayLike<number>,
  derive: (g: number[], s: number) => readonly number[],
  grads: number[][],
  digits = 6,
): void {
  for (const [s, g] of grads.entries()) {
    const got = step(g, s);
    const want = derive(g, s);
    for (let j = 0; j < want.length; j++) expect(got[j], `step ${s} [${j}]`).toBeCloseTo(want[j], digits);
  }
}
