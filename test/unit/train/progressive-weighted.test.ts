/**
 * Progressive figures and eval figures on the corrected scale (issue 14): a model trained on a log
 * whose negatives were kept at rate r predicts q; the figures are of p = q / (q + (1 - q) / r) with
 * each example weighted w = sample weight * (clicked ? 1 : 1 / r). Checked against an independent
 * float64 re-derivation on a small seeded set with random float32 sample weights and r = 0.3 (1/r
 * not dyadic: the window's float64 bins and sums round): the weighted Mann-Whitney AUC by its
 * O(n^2) pairwise definition, sum over click i, non-click j of w_i w_j ([p_i > p_j] + [p_i = p_j]
 * / 2) / (W+ W-), and weighted logloss, NE, calibration, CTR by pairwise sums. Tolerances: the
 * streaming AUC within its stated bin bound (+1e-12), the sort-based `auc` to 1e-12; the rest
 * 1e-12 relative (after the window slid 20 times and was re-summed once).
 */
import { describe, expect, it } from 'vitest';
import type { QualityFigures } from '../../../src/events/train-events.ts';
import { auc, evalFigures, weightsOf } from '../../../src/train/evaluation/binary-metrics.ts';
import { ProgressiveMetrics } from '../../../src/train/evaluation/progressive.ts';
import { pairwiseSum } from '../../helpers/scored-stream.ts';
import { mulberry32 } from '../../helpers/prng.ts';

const R = 0.3;
const N = 20_000,
  W = 1000;

/** q (float32, sampled scale; every 8th on a 0.01 grid: ties), labels, float32 sample weights in [0, 3). */
function scored(seed: number) {
  const u = mulberry32(seed);
  const q = new Float32Array(N),
    y = new Float32Array(N),
    sw = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    const z = -1.5 + 2 * (u() - 0.5) + 1.5 * (u() - 0.5);
    const t = 1 / (1 + Math.exp(-z));
    y[i] = u() < t ? 1 : 0;
    const qi = 1 / (1 + Math.exp(-(z + (u() - 0.5))));
    q[i] = i % 8 === 0 ? Math.round(qi * 100) / 100 : qi;
    sw[i] = i % 10 === 0 ? 0 : 3 * u();
  }
  return { q, y, sw };
}

/** Float64 reference over [from, to): p recalibrated, w = sw * (y ? 1 : 1/r); pairwise AUC. */
function reference(q: Float32Array, y: Float32Array, sw: Float32Array, from: number, to: number) {
  const p = (i: number) => q[i] / (q[i] + (1 - q[i]) / R);
  const w = (i: number) => sw[i] * (y[i] > 0.5 ? 1 : 1 / R);
  const clip = (x: number) => Math.min(1 - 1e-7, Math.max(1e-7, x));
  const sumW = pairwiseSum(w, from, to),
    sumWy = pairwiseSum((i) => w(i) * y[i], from, to);
  const ll = pairwiseSum((i) => w(i) * -Math.log(y[i] > 0.5 ? clip(p(i)) : 1 - clip(p(i))), from, to) / sumW;
  const ctr = sumWy / sumW;
  const h = -(ctr * Math.log(ctr) + (1 - ctr) * Math.log(1 - ctr));
  let wins = 0,
    wPos = 0,
    wNeg = 0;
  for (let i = from; i < to; i++) {
    if (y[i] > 0.5) wPos += w(i);
    else wNeg += w(i);
  }
  for (let i = from; i < to; i++) {
    if (y[i] < 0.5) continue;
    for (let j = from; j < to; j++) if (y[j] < 0.5) wins += w(i) * w(j) * (p(i) > p(j) ? 1 : p(i) === p(j) ? 0.5 : 0);
  }
  return {
    auc: wins / (wPos * wNeg),
    logloss: ll,
    ne: ll / h,
    calibration: pairwiseSum((i) => w(i) * p(i), from, to) / sumWy,
    ctr,
  };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

function check(f: QualityFigures, ref: ReturnType<typeof reference>, n: number, what: string) {
  expect(f.examples, what).toBe(n);
  expect(Math.abs(f.auc - ref.auc), `${what} AUC ${f.auc} vs ${ref.auc}`).toBeLessThanOrEqual(f.aucErrorBound + 1e-12);
  expect(f.aucErrorBound, what).toBeLessThan(2e-3);
  for (const k of ['logloss', 'ne', 'calibration', 'ctr'] as const)
    expect(rel(f[k], ref[k]), `${what} ${k} ${f[k]} vs ${ref[k]}`).toBeLessThan(1e-12);
}

describe('progressive and eval figures on the corrected scale (train.negativeRate, sample weights)', () => {
  it('window and lifetime equal a float64 weighted re-derivation', () => {
    const { q, y, sw } = scored(7);
    const pm = new ProgressiveMetrics(W, [], R);
    const seen: string[] = [];
    let at = 0;
    for (const mark of [700, 5000, 17_000, N]) {
      for (let s = at; s < mark; s += 256) {
        const e = Math.min(mark, s + 256);
        pm.addBatch(q.subarray(s, e), {
          size: e - s,
          labels: y.subarray(s, e),
          weights: sw.subarray(s, e),
          idHi: new Uint32Array(0),
          idLo: new Uint32Array(0),
        });
      }
      at = mark;
      const from = Math.max(0, mark - W);
      const win = pm.figures(),
        ref = reference(q, y, sw, from, mark);
      check(win, ref, mark - from, `window at ${mark}`);
      check(pm.lifetime(), reference(q, y, sw, 0, mark), mark, `lifetime at ${mark}`);
      seen.push(
        `${mark}: window AUC ${win.auc.toFixed(5)} (exact ${ref.auc.toFixed(5)}, ` +
          `bound ${win.aucErrorBound.toExponential(1)}) calibration ${win.calibration.toFixed(4)} ` +
          `ctr ${win.ctr.toFixed(4)}`,
      );
    }
    console.log(`weighted progressive figures, r=${R}:\n  ${seen.join('\n  ')}`);
  });

  it('eval figures (weightsOf, evalFigures) equal the same re-derivation; unweighted without weights', () => {
    const { q, y, sw } = scored(8);
    const n = 3000;
    const p = Float64Array.from(q.subarray(0, n), (x) => x / (x + (1 - x) / R));
    const f = evalFigures(p, y, n, weightsOf(y, n, R, sw));
    const ref = reference(q, y, sw, 0, n);
    expect(f.examples).toBe(n);
    expect(Math.abs(f.auc - ref.auc)).toBeLessThan(1e-12);
    for (const k of ['logloss', 'ne', 'calibration'] as const) expect(rel(f[k], ref[k]), k).toBeLessThan(1e-12);
    // weights of 1 (r = 1, no sample weights) are the unweighted figures
    expect(auc(p, y, n, weightsOf(y, n, 1))).toBe(auc(p, y, n));
    expect(evalFigures(p, y, n, weightsOf(y, n, 1))).toEqual(evalFigures(p, y, n));
  });
});
