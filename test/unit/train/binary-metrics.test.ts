import { describe, expect, it } from 'vitest';
import { auc, baseEntropy, evalFigures, logloss } from '../../../src/train/evaluation/binary-metrics.ts';
import { mulberry32 } from '../../helpers/prng.ts';

/** AUC by its definition, O(n^2) in float64: P(p_pos > p_neg) + 0.5 P(p_pos = p_neg) over all pairs. */
function pairwiseAuc(p: number[], y: number[]): number {
  let wins = 0,
    pairs = 0;
  for (let i = 0; i < p.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < p.length; j++) {
      if (y[j] !== 0) continue;
      pairs++;
      wins += p[i] > p[j] ? 1 : p[i] === p[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

describe('binary metrics against a float64 re-derivation', () => {
  it('AUC equals the pairwise definition, with many ties (scores on a 0.05 grid)', () => {
    for (const seed of [1, 2, 3]) {
      const r = mulberry32(seed);
      const n = 400;
      const y = Array.from({ length: n }, () => (r() < 0.3 ? 1 : 0));
      const p = y.map((yi) => Math.round(Math.min(0.99, Math.max(0.01, 0.4 * yi + 0.6 * r())) * 20) / 20);
      expect(auc(Float64Array.from(p), y)).toBeCloseTo(pairwiseAuc(p, y), 12);
    }
  });

  it('AUC: 1 for a perfect ranking, 0 for a reversed one, 0.5 when all scores tie, NaN for one class', () => {
    expect(auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(auc([0.5, 0.5, 0.5], [0, 1, 1])).toBe(0.5);
    expect(auc([0.1, 0.2], [1, 1])).toBeNaN();
  });

  it('AUC over the first n of longer arrays (ring buffers)', () => {
    expect(auc([0.1, 0.9, 0.2, 0.05], [0, 1, 1, 1], 3)).toBeCloseTo(pairwiseAuc([0.1, 0.9, 0.2], [0, 1, 1]), 12);
  });

  it('logloss, base entropy, NE and calibration by their formulas', () => {
    const p = [0.9, 0.2, 0.6, 0.1, 1];
    const y = [1, 0, 1, 0, 0];
    const clip = (q: number) => Math.min(1 - 1e-7, Math.max(1e-7, q));
    const ll = -p.reduce((s, q, i) => s + (y[i] ? Math.log(clip(q)) : Math.log(1 - clip(q))), 0) / p.length;
    expect(logloss(p, y)).toBeCloseTo(ll, 12);
    const ctr = 2 / 5;
    const h = -(ctr * Math.log(ctr) + (1 - ctr) * Math.log(1 - ctr));
    expect(baseEntropy(ctr)).toBeCloseTo(h, 12);
    expect(baseEntropy(0)).toBe(0);
    const f = evalFigures(p, y);
    expect(f.examples).toBe(5);
    expect(f.logloss).toBeCloseTo(ll, 12);
    expect(f.ne).toBeCloseTo(ll / h, 12);
    expect(f.calibration).toBeCloseTo((0.9 + 0.2 + 0.6 + 0.1 + 1) / 2, 12);
    expect(f.auc).toBeCloseTo(pairwiseAuc(p, y), 12);
  });

  it('undefined figures are NaN: all over NaN or infinite predictions, NE and calibration without clicks', () => {
    const y = [1, 0, 1, 0];
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const p = [0.9, bad, 0.6, 0.1];
      expect(auc(p, y), String(bad)).toBeNaN();
      expect(logloss(p, y), String(bad)).toBeNaN();
      const f = evalFigures(p, y);
      for (const k of ['auc', 'logloss', 'ne', 'calibration'] as const) expect(f[k], `${k} ${bad}`).toBeNaN();
      expect(f.examples).toBe(4);
    }
    const none = evalFigures([0.1, 0.2, 0.05], [0, 0, 0]);
    expect(none.auc).toBeNaN();
    expect(none.ne).toBeNaN(); // the base entropy is 0: NE would be infinite
    expect(none.calibration).toBeNaN();
    expect(none.logloss).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8) + Math.log(0.95)) / 3, 12);
    const empty = evalFigures([], []);
    for (const k of ['auc', 'logloss', 'ne', 'calibration'] as const) expect(empty[k], k).toBeNaN();
  });
});
