/**
 * Binary-classification metrics of CTR models over arrays of predictions p in (0,1) and
 * labels y in {0,1}. Float64 accumulation throughout. A figure that is undefined is NaN,
 * never a made-up number: every figure over predictions of which one is NaN or infinite
 * (a diverged model), AUC over one class, NE and calibration without clicks, all over none.
 * @module
 */

/** Predictions are clipped to [EPS, 1 - EPS] before a log. */
const EPS = 1e-7;

/**
 * One example's logloss in nats: -ln q if clicked else -ln(1-q), q = p clipped to [1e-7, 1-1e-7]
 * (p finite; the terms `logloss` sums, and the streaming sums of ./stream-figures.ts).
 */
export function loglossTerm(p: number, clicked: boolean): number {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return clicked ? -Math.log(q) : -Math.log(1 - q);
}

/**
 * Mean logloss in nats: -mean(y ln p + (1-y) ln(1-p)), p clipped to [1e-7, 1-1e-7]; NaN when
 * n = 0 or a p is NaN or infinite (clipping would turn an infinite one into a number).
 */
export function logloss(p: ArrayLike<number>, y: ArrayLike<number>, n = p.length): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(p[i])) return NaN;
    s += loglossTerm(p[i], y[i] > 0.5);
  }
  return n ? s / n : NaN;
}

/** Entropy in nats of a Bernoulli(ctr): the logloss of always predicting the base rate. */
export function baseEntropy(ctr: number): number {
  if (ctr <= 0 || ctr >= 1) return 0;
  return -(ctr * Math.log(ctr) + (1 - ctr) * Math.log(1 - ctr));
}

/**
 * ROC AUC by the rank-sum (Mann-Whitney U) formula with mid-ranks for ties.
 * O(n log n). NaN when only one class is present or a p is NaN or infinite (a sort over NaN
 * is no ranking).
 */
export function auc(p: ArrayLike<number>, y: ArrayLike<number>, n = p.length): number {
  for (let i = 0; i < n; i++) if (!Number.isFinite(p[i])) return NaN;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const sorted = Array.from(idx).sort((a, b) => p[a] - p[b]);
  let pos = 0,
    rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && p[sorted[j + 1]] === p[sorted[i]]) j++;
    const mid = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++)
      if (y[sorted[k]] > 0.5) {
        pos++;
        rankSum += mid;
      }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** The figures `lionctr eval` reports. */
export interface EvalFigures {
  auc: number;
  /** Mean logloss, nats. */
  logloss: number;
  /**
   * Normalized entropy: logloss / entropy of the empirical CTR (He et al. 2014, "Practical Lessons
   * from Predicting Clicks on Ads at Facebook", sec. 2); NaN when that entropy is 0 (no clicks,
   * or only clicks).
   */
  ne: number;
  /** sum(p) / sum(y); NaN without clicks. */
  calibration: number;
  examples: number;
}

/** All EvalFigures of the first n predictions and labels; undefined ones NaN (see the module doc). */
export function evalFigures(p: ArrayLike<number>, y: ArrayLike<number>, n = p.length): EvalFigures {
  let sp = 0,
    sy = 0;
  for (let i = 0; i < n; i++) {
    sp += p[i];
    sy += y[i];
  }
  if (!Number.isFinite(sp)) return { auc: NaN, logloss: NaN, ne: NaN, calibration: NaN, examples: n };
  const ll = logloss(p, y, n);
  const base = n ? baseEntropy(sy / n) : 0;
  return {
    auc: auc(p, y, n),
    logloss: ll,
    ne: base > 0 ? ll / base : NaN,
    calibration: sy > 0 ? sp / sy : NaN,
    examples: n,
  };
}
