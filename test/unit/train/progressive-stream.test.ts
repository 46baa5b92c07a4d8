/**
 * Streaming progressive validation (src/train/evaluation/progressive.ts, issue 15) against
 * independent float64 references (test/helpers/scored-stream.ts) on 10^6+ examples of a seeded,
 * drifting stream: the binned AUC of the window (10^5 and 10^6) and of the lifetime lies within its
 * stated bound of the exact sort-based AUC, and the bound is small (< 2e-4); logloss, NE,
 * calibration and CTR equal a pairwise float64 re-derivation to 1e-12 relative (after the window
 * has slid over the stream 12 times: no drift); the Bayes logloss too.
 */
import { describe, expect, it } from 'vitest';
import type { QualityFigures } from '../../../src/events/train-events.ts';
import { binning, binnedAuc, binOf, coarsen } from '../../../src/train/evaluation/auc-bins.ts';
import { ProgressiveMetrics } from '../../../src/train/evaluation/progressive.ts';
import { exactAuc, referenceFigures, scoredStream } from '../../helpers/scored-stream.ts';

const N = 1_200_000;
const stream = scoredStream(N, 15);
const BATCH = 4096;

/** Feeds examples [from, to) of the stream in batches of BATCH. */
function feed(pm: ProgressiveMetrics, from: number, to: number): void {
  for (let s = from; s < to; s += BATCH) {
    const e = Math.min(to, s + BATCH);
    pm.add(stream.pred.subarray(s, e), stream.labels.subarray(s, e), stream.bayesP.subarray(s, e));
  }
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

/** Checks the figures `f` of examples [from, to) against the references; returns |AUC error| and the bound. */
function check(f: QualityFigures, from: number, to: number): { err: number; bound: number } {
  const exact = exactAuc(stream.pred, stream.labels, from, to);
  const err = Math.abs(f.auc - exact);
  expect(err, `AUC ${f.auc} vs exact ${exact} over [${from}, ${to})`).toBeLessThanOrEqual(f.aucErrorBound);
  expect(f.aucErrorBound).toBeLessThan(2e-4);
  const ref = referenceFigures(stream.pred, stream.labels, from, to);
  expect(f.examples).toBe(ref.examples);
  expect(f.ctr).toBe(ref.ctr);
  for (const k of ['logloss', 'ne', 'calibration'] as const) expect(rel(f[k], ref[k]), k).toBeLessThan(1e-12);
  const bayes = referenceFigures(stream.bayesP, stream.labels, from, to);
  expect(rel(f.bayesLogloss, bayes.logloss)).toBeLessThan(1e-12);
  return { err, bound: f.aucErrorBound };
}

describe('streaming progressive figures', () => {
  it('window 10^5 and lifetime: AUC within the stated bound of the exact AUC; the rest exact', () => {
    const W = 100_000;
    const pm = new ProgressiveMetrics(W);
    const seen: string[] = [];
    let at = 0;
    for (const mark of [50_000, 250_000, 600_000, N]) {
      feed(pm, at, mark);
      at = mark;
      const w = check(pm.figures(), Math.max(0, mark - W), mark);
      const l = check(pm.lifetime(), 0, mark);
      expect(pm.figures().window).toBe(Math.min(mark, W));
      seen.push(`${mark}: window err ${w.err.toExponential(1)} <= ${w.bound.toExponential(1)}`);
      seen.push(`${mark}: lifetime err ${l.err.toExponential(1)} <= ${l.bound.toExponential(1)}`);
    }
    console.log(`progressive AUC vs exact (window 1e5):\n  ${seen.join('\n  ')}`);
  });

  it('window 10^6 over 1.2 * 10^6 examples: AUC within the bound, the rest exact', () => {
    const pm = new ProgressiveMetrics(1_000_000);
    feed(pm, 0, N);
    const w = check(pm.figures(), N - 1_000_000, N);
    const l = check(pm.lifetime(), 0, N);
    console.log(
      `window 1e6: AUC err ${w.err.toExponential(2)} <= bound ${w.bound.toExponential(2)}; ` +
        `lifetime 1.2e6: err ${l.err.toExponential(2)} <= ${l.bound.toExponential(2)}`,
    );
  });

  it('a small window slid 600 times (re-summed every 16): the sums still equal a re-derivation', () => {
    const pm = new ProgressiveMetrics(1000);
    feed(pm, 0, 600_500);
    check(pm.figures(), 599_500, 600_500);
  });

  it('a NaN prediction makes the window figures (but CTR) undefined until it leaves; the lifetime stays so', () => {
    const pm = new ProgressiveMetrics(1000);
    feed(pm, 0, 2000);
    pm.add([Number.NaN, 0.5], [1, 0]);
    let f = pm.figures();
    expect([f.auc, f.logloss, f.ne, f.calibration, f.aucErrorBound].every(Number.isNaN)).toBe(true);
    expect(f.ctr).toBeGreaterThan(0);
    feed(pm, 2000, 2998);
    f = pm.figures();
    expect(Number.isNaN(f.logloss)).toBe(true); // still in the window: the NaN, the 0.5 and 998 more
    feed(pm, 2998, 3000);
    f = pm.figures(); // the window is stream[2000, 3000) again
    const ref = referenceFigures(stream.pred, stream.labels, 2000, 3000);
    expect(rel(f.logloss, ref.logloss)).toBeLessThan(1e-12);
    expect(f.auc).toBeCloseTo(exactAuc(stream.pred, stream.labels, 2000, 3000), 2);
    expect(Number.isNaN(pm.lifetime().auc)).toBe(true);
  });
});

describe('AUC bins', () => {
  it('are monotone in p, and a coarse binning is the fine one coarsened', () => {
    const fine = binning(10),
      coarse = binning(7);
    let last = -1;
    const ps = [0, 1e-12, 2 ** -24, 1e-7, 1e-3, 0.02, 0.25, 0.4999999, 0.5, 0.5000001, 0.75, 0.999, 1 - 1e-9, 1];
    for (let x = 1e-9; x < 1; x *= 1.013) ps.push(x, 1 - x);
    for (const p of ps.sort((a, b) => a - b)) {
      const b = binOf(p, fine);
      expect(b).toBeGreaterThanOrEqual(last);
      expect(b).toBeLessThan(fine.count);
      expect(coarsen(b, fine, coarse)).toBe(binOf(p, coarse));
      last = b;
    }
  });

  it('binned AUC of one bin per distinct score is the exact AUC with bound = the tied share', () => {
    // scores 0..3, one bin each: the binned AUC is the exact one, ties at score 2 give the bound
    const pos = [0, 1, 2, 3],
      neg = [3, 2, 1, 0];
    const { auc, bound } = binnedAuc(pos, neg);
    const s = [0, 0, 0, 1, 1, 2, 3, 3, 3, 1, 2, 2],
      y = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
    expect(auc).toBeCloseTo(exactAuc(s, y), 15);
    expect(bound).toBeCloseTo((1 * 2 + 2 * 1) / (2 * 6 * 6), 15);
  });
});
