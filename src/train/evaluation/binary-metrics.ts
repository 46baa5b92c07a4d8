/**
 * Binary-classification metrics of CTR models over arrays of predictions p in (0,1) and
 * labels y in {0,1}. Float64 accumulation throughout.
 * @module
 */

/** Predictions are clipped to [EPS, 1 - EPS] before a log. */
const EPS = 1e-7;

/** Mean logloss in nats: -mean(y ln p + (1-y) ln(1-p)), p clipped to [1e-7, 1-1e-7]. */
export function logloss(p: ArrayLike<number>, y: ArrayLike<number>, n = p.length): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const q = Math.min(1 - EPS, Math.max(EPS, p[i]));
    s -= y[i] > 0.5 ? Math.log(q) : Math.log(1 - q);
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
 * O(n log n). NaN when only one class is present.
 */
export function auc(p: ArrayLike<number>, y: ArrayLike<number>, n = p.length): number {
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
   * from Predicting Clicks on Ads at Facebook", sec. 2).
   */
  ne: number;
  /** sum(p) / sum(y). */
  calibration: number;
  examples: number;
}

/** All EvalFigures of a set of predictions. */
export function evalFigures(p: ArrayLike<number>, y: ArrayLike<number>, n = p.length): EvalFigures {
  let sp = 0,
    sy = 0;
  for (let i = 0; i < n; i++) {
    sp += p[i];
    sy += y[i];
  }
  const ll = logloss(p, y, n);
  return {
    auc: auc(p, y, n),
    logloss: ll,
    ne: ll / baseEntropy(sy / n),
    calibration: sy > 0 ? sp / sy : NaN,
    examples: n,
  };
}
