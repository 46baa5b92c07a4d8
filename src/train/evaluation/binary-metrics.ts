/**
 * Binary-classification metrics of CTR models over arrays of predictions p in (0,1) and
 * labels y in {0,1}, optionally example weights w >= 0 (sample weights, 1/r on the non-clicks
 * of a downsampled log; `weightsOf`): every figure is then its weighted form, each example
 * counting w times (AUC: the weighted Mann-Whitney statistic). Float64 accumulation
 * throughout. A figure that is undefined is NaN, never a made-up number: every figure over
 * predictions of which one is NaN or infinite (a diverged model), AUC over one class, NE and
 * calibration without clicks, all over none.
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
 * Mean logloss in nats: -mean(y ln p + (1-y) ln(1-p)), p clipped to [1e-7, 1-1e-7], weighted by
 * `w` when given (sum w l / sum w); NaN when n = 0 (or the weights sum to 0) or a p is NaN or
 * infinite (clipping would turn an infinite one into a number).
 */
export function logloss(p: ArrayLike<number>, y: ArrayLike<number>, n = p.length, w?: ArrayLike<number>): number {
  let s = 0,
    sw = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(p[i])) return NaN;
    const wi = w ? w[i] : 1;
    s += wi * loglossTerm(p[i], y[i] > 0.5);
    sw += wi;
  }
  return sw > 0 ? s / sw : NaN;
}

/** Entropy in nats of a Bernoulli(ctr): the logloss of always predicting the base rate. */
export function baseEntropy(ctr: number): number {
  if (ctr <= 0 || ctr >= 1) return 0;
  return -(ctr * Math.log(ctr) + (1 - ctr) * Math.log(1 - ctr));
}

/**
 * ROC AUC by the Mann-Whitney U statistic, ties counting 1/2, weighted by `w` when given:
 * sum over click i, non-click j of w_i w_j ([p_i > p_j] + [p_i = p_j] / 2) / (W+ W-), read in one
 * pass over the predictions sorted (per group of equal p: its click weight times the non-click
 * weight below plus half that of the group). O(n log n). NaN when a class has no weight or a p
 * is NaN or infinite (a sort over NaN is no ranking).
 */
export function auc(p: ArrayLike<number>, y: ArrayLike<number>, n = p.length, w?: ArrayLike<number>): number {
  for (let i = 0; i < n; i++) if (!Number.isFinite(p[i])) return NaN;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const sorted = Array.from(idx).sort((a, b) => p[a] - p[b]);
  let negBelow = 0,
    posAll = 0,
    u = 0;
  for (let i = 0; i < n; ) {
    let j = i,
      gPos = 0,
      gNeg = 0;
    while (j + 1 < n && p[sorted[j + 1]] === p[sorted[i]]) j++;
    for (let k = i; k <= j; k++) {
      const wk = w ? w[sorted[k]] : 1;
      if (y[sorted[k]] > 0.5) gPos += wk;
      else gNeg += wk;
    }
    u += gPos * (negBelow + gNeg / 2);
    negBelow += gNeg;
    posAll += gPos;
    i = j + 1;
  }
  if (!(posAll > 0 && negBelow > 0)) return NaN;
  return u / (posAll * negBelow);
}

/**
 * The weights of n examples on the full log's scale: w_i = sample weight (`sample`; 1 when
 * absent) times 1 / r for a non-click of a log whose negatives were kept with probability r
 * (train.negativeRate; a non-click stands for 1/r of the full log's). [n] float64.
 */
export function weightsOf(y: ArrayLike<number>, n: number, r: number, sample?: ArrayLike<number>): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (sample ? sample[i] : 1) * (y[i] > 0.5 ? 1 : 1 / r);
  return out;
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
  /** sum(w p) / sum(w y); NaN without clicks. */
  calibration: number;
  /** Examples counted (unweighted). */
  examples: number;
}

/**
 * All EvalFigures of the first n predictions and labels, weighted by `w` when given (module doc;
 * the CTR of NE is sum w y / sum w); undefined ones NaN (see the module doc).
 */
export function evalFigures(
  p: ArrayLike<number>,
  y: ArrayLike<number>,
  n = p.length,
  w?: ArrayLike<number>,
): EvalFigures {
  let sp = 0,
    sy = 0,
    sw = 0;
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i] : 1;
    sp += wi * p[i];
    sy += wi * y[i];
    sw += wi;
  }
  if (!Number.isFinite(sp)) return { auc: NaN, logloss: NaN, ne: NaN, calibration: NaN, examples: n };
  const ll = logloss(p, y, n, w);
  const base = sw > 0 ? baseEntropy(sy / sw) : 0;
  return {
    auc: auc(p, y, n, w),
    logloss: ll,
    ne: base > 0 ? ll / base : NaN,
    calibration: sy > 0 ? sp / sy : NaN,
    examples: n,
  };
}
