/**
 * @module A seeded stream of scored examples for the progressive-metrics tests, and independent
 * float64 references: an exact sort-based AUC (mid-rank ties) and pairwise sums. No lionctr code.
 */
import { mulberry32 } from './prng.ts';

/** n examples: float32 predictions (some rounded to 3 decimals: exact ties), labels, true p. */
export interface ScoredStream {
  pred: Float32Array;
  labels: Float32Array;
  bayesP: Float64Array;
}

/**
 * A drifting CTR stream: true logit z ~ N(mu(t), 1.2) with mu going from -3 to -1.5 over the
 * stream, label ~ Bernoulli(sigmoid(z)), prediction sigmoid(z + N(0, 0.6)) as float32; every 16th
 * prediction rounded to 3 decimals, so that exact ties (and ties across clicks and non-clicks) occur.
 */
export function scoredStream(n: number, seed: number): ScoredStream {
  const u = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  const sig = (x: number) => 1 / (1 + Math.exp(-x));
  const out = { pred: new Float32Array(n), labels: new Float32Array(n), bayesP: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const z = -3 + (1.5 * i) / n + 1.2 * normal();
    out.bayesP[i] = sig(z);
    out.labels[i] = u() < out.bayesP[i] ? 1 : 0;
    const p = sig(z + 0.6 * normal());
    out.pred[i] = i % 16 === 0 ? Math.round(p * 1000) / 1000 : p;
  }
  return out;
}

/** Exact ROC AUC of scores s[from, to) against labels y (Mann-Whitney U, ties count 1/2); O(n log n). */
export function exactAuc(s: ArrayLike<number>, y: ArrayLike<number>, from = 0, to = s.length): number {
  let P = 0;
  for (let i = from; i < to; i++) if (y[i] > 0.5) P++;
  const pos = new Float64Array(P),
    neg = new Float64Array(to - from - P);
  let a = 0,
    b = 0;
  for (let i = from; i < to; i++) {
    if (y[i] > 0.5) pos[a++] = s[i];
    else neg[b++] = s[i];
  }
  pos.sort();
  neg.sort();
  let below = 0,
    equal = 0,
    u = 0;
  for (let i = 0; i < pos.length; i++) {
    while (below < neg.length && neg[below] < pos[i]) below++;
    if (i === 0 || pos[i] !== pos[i - 1]) {
      equal = 0;
      while (below + equal < neg.length && neg[below + equal] === pos[i]) equal++;
    }
    u += below + equal / 2;
  }
  return u / (pos.length * neg.length);
}

/** Pairwise (cascade) sum of f(i) for i in [from, to): rounding error O(log n) ulps. */
export function pairwiseSum(f: (i: number) => number, from: number, to: number): number {
  if (to - from <= 8) {
    let s = 0;
    for (let i = from; i < to; i++) s += f(i);
    return s;
  }
  const mid = (from + to) >>> 1;
  return pairwiseSum(f, from, mid) + pairwiseSum(f, mid, to);
}

/** Float64 re-derivation of logloss, NE, calibration and CTR over [from, to) (p clipped to 1e-7). */
export function referenceFigures(p: ArrayLike<number>, y: ArrayLike<number>, from: number, to: number) {
  const n = to - from;
  const clip = (x: number) => Math.min(1 - 1e-7, Math.max(1e-7, x));
  const logloss = pairwiseSum((i) => (y[i] > 0.5 ? -Math.log(clip(p[i])) : -Math.log(1 - clip(p[i]))), from, to) / n;
  const clicks = pairwiseSum((i) => (y[i] > 0.5 ? 1 : 0), from, to);
  const ctr = clicks / n;
  const entropy = -(ctr * Math.log(ctr) + (1 - ctr) * Math.log(1 - ctr));
  const calibration = pairwiseSum((i) => p[i], from, to) / clicks;
  return { logloss, ne: logloss / entropy, calibration, ctr, examples: n };
}
