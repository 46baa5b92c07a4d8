import { describe, expect, it } from 'vitest';
import { Cadence } from '../../../src/train/cadence.ts';

describe('Cadence', () => {
  it('is due once the period has passed since the last mark (at exactly the period too)', () => {
    const c = new Cadence(2, 1000);
    expect(c.due(1000)).toBe(false);
    expect(c.due(2999)).toBe(false);
    expect(c.due(3000)).toBe(true);
    c.mark(3500);
    expect(c.due(5499)).toBe(false);
    expect(c.due(5500)).toBe(true);
  });

  it('with period 0 is due only when asked; asked is always due', () => {
    const c = new Cadence(0, 0);
    expect(c.due(1e12)).toBe(false);
    expect(c.due(0, true)).toBe(true);
    expect(new Cadence(60, 0).due(1, true)).toBe(true);
  });

  it('gives the rate of a counter since the last mark, and the count at the mark', () => {
    const c = new Cadence(1, 0, 100);
    expect(c.lastCount).toBe(100);
    expect(c.rate(2000, 700)).toBe(300); // 600 in 2 s
    c.mark(2000, 700);
    expect(c.lastCount).toBe(700);
    expect(c.rate(2500, 700)).toBe(0); // idle
    c.mark(3000); // a mark without a count keeps the count
    expect(c.lastCount).toBe(700);
    expect(c.rate(4000, 800)).toBe(100);
  });
});
