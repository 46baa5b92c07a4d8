/**
 * @module Streaming quality figures of one scope (a window, a lifetime, a slice of either): per-bin
 * weighted click and non-click sums for the AUC (./auc-bins.ts) and running weighted sums for
 * logloss, NE, calibration and CTR, each example added, and for a window taken out again, in O(1).
 *
 * Weights. Each example carries a weight w >= 0 (its sample weight, schema.weight, times 1/r for a
 * non-click of a log whose negatives were kept at rate r, train.negativeRate; ./progressive.ts), so
 * the figures estimate the un-downsampled stream: CTR = sum w y / sum w; logloss = sum w l / sum w;
 * calibration = sum w p / sum w y; AUC the weighted Mann-Whitney statistic, sum over click i,
 * non-click j of w_i w_j ([s_i > s_j] + [s_i = s_j] / 2) / (W+ W-). With every w = 1 they are the
 * unweighted figures, exactly (the sums of w are then integers).
 *
 * Exactness. Counts (examples, clicks) are integers, exact in float64 below 2^53; so are the bin
 * sums and the sums of w while the weights are integers (or dyadic, as 1/r is for r = 1/4). The
 * sums of w, w y, w p, of the logloss terms and of the Bayes logloss terms are Neumaier-compensated
 * (Neumaier 1974, "Rundungsfehleranalyse einiger Verfahren zur Summation endlicher Summen"): the
 * sum of any sequence of adds and takes is within 2 u |S| + O(n u^2) sum |x| of the exact one
 * (u = 2^-53), so a window's sum does not drift as examples pass through it; ProgressiveMetrics
 * also re-sums a window (sums and bins) from its ring buffer every 16 times the ring wraps
 * (resetSums + addSums), which bounds n by 32 windows. The figures equal a float64 re-derivation
 * to ~1e-15 relative (test/unit/train).
 */
import type { QualityFigures } from '../../events/train-events.ts';
import { binnedAuc, type Binning } from './auc-bins.ts';
import { baseEntropy } from './binary-metrics.ts';

/** A Neumaier-compensated float64 sum. */
export class CompensatedSum {
  private s = 0;
  private c = 0;

  /** Adds x (finite). */
  add(x: number): void {
    const t = this.s + x;
    this.c += Math.abs(this.s) >= Math.abs(x) ? this.s - t + x : x - t + this.s;
    this.s = t;
  }

  /** The sum. */
  get value(): number {
    return this.s + this.c;
  }

  reset(): void {
    this.s = 0;
    this.c = 0;
  }
}

/** Bin number of an example without one (a NaN or infinite prediction). */
export const NO_BIN = 0xffff;

/**
 * The accumulators of one scope (window or lifetime alike). Memory: 2 K float64 bin sums
 * (K = binning.count; 16 K bytes) + ~200 bytes.
 */
export class StreamFigures {
  readonly binning: Binning;
  /** [K] weight of the clicks per bin. */
  readonly pos: Float64Array;
  /** [K] weight of the non-clicks per bin. */
  readonly neg: Float64Array;
  examples = 0;
  clicks = 0;
  /** Examples whose prediction was NaN or infinite (every figure but CTR is undefined while > 0). */
  nonFinite = 0;
  /** Examples without a Bayes probability (the Bayes logloss is undefined while > 0). */
  withoutBayes = 0;
  /** sum w, sum w y (every example). */
  readonly sumW = new CompensatedSum();
  readonly sumWClicks = new CompensatedSum();
  /** sum w p, sum w l of the examples with a finite prediction; sum w l_Bayes of those with a Bayes p. */
  readonly sumP = new CompensatedSum();
  readonly sumLogloss = new CompensatedSum();
  readonly sumBayesLogloss = new CompensatedSum();

  constructor(b: Binning) {
    this.binning = b;
    this.pos = new Float64Array(b.count);
    this.neg = new Float64Array(b.count);
  }

  /** Bytes of the bin arrays. */
  get bytes(): number {
    return this.pos.byteLength + this.neg.byteLength;
  }

  /**
   * Adds (sign 1) or takes out (sign -1, an example added before, with the same arguments) one
   * example: its bin (NO_BIN when its prediction p is not finite), label, p, logloss term, Bayes
   * logloss term (NaN: none) and weight w >= 0 (see the module doc).
   */
  update(sign: 1 | -1, bin: number, clicked: boolean, p: number, ll: number, bayesLl: number, w = 1): void {
    this.examples += sign;
    if (clicked) this.clicks += sign;
    if (bin === NO_BIN) this.nonFinite += sign;
    else if (clicked) this.pos[bin] += sign * w;
    else this.neg[bin] += sign * w;
    if (Number.isNaN(bayesLl)) this.withoutBayes += sign;
    this.addSums(bin, clicked, p, ll, bayesLl, sign * w);
  }

  /** Zeroes the weighted sums and the bins (before addSums / addBins re-sum them from the examples held). */
  resetSums(): void {
    for (const s of [this.sumW, this.sumWClicks, this.sumP, this.sumLogloss, this.sumBayesLogloss]) s.reset();
    this.pos.fill(0);
    this.neg.fill(0);
  }

  /** Adds one held example's bin weight only (counts and sums unchanged); see resetSums. */
  addBin(bin: number, clicked: boolean, w: number): void {
    if (bin === NO_BIN) return;
    if (clicked) this.pos[bin] += w;
    else this.neg[bin] += w;
  }

  /** Adds one held example's terms, weighted by w, to the sums only (counts and bins unchanged); see resetSums. */
  addSums(bin: number, clicked: boolean, p: number, ll: number, bayesLl: number, w: number): void {
    this.sumW.add(w);
    if (clicked) this.sumWClicks.add(w);
    if (bin !== NO_BIN) {
      this.sumP.add(w * p);
      this.sumLogloss.add(w * ll);
    }
    if (!Number.isNaN(bayesLl)) this.sumBayesLogloss.add(w * bayesLl);
  }

  /**
   * The figures (QualityFigures; undefined ones NaN, also while the weights sum to 0): O(K) for
   * the AUC, O(1) for the rest. With W = sum w, W+ = sum w y: logloss = sum w l / W; NE = logloss
   * / H(W+ / W); calibration = sum w p / W+; CTR = W+ / W; examples: the count, unweighted.
   */
  figures(): QualityFigures {
    const n = this.examples,
      w = this.sumW.value,
      wClicks = this.sumWClicks.value;
    const some = n > 0 && w > 0;
    const ctr = some ? wClicks / w : NaN;
    const bayesLogloss = some && this.withoutBayes === 0 ? this.sumBayesLogloss.value / w : NaN;
    if (!some || this.nonFinite > 0) {
      const nan = NaN;
      return { auc: nan, aucErrorBound: nan, logloss: nan, ne: nan, calibration: nan, ctr, examples: n, bayesLogloss };
    }
    const logloss = this.sumLogloss.value / w;
    const base = baseEntropy(ctr);
    const { auc, bound } = binnedAuc(this.pos, this.neg);
    return {
      auc,
      aucErrorBound: bound,
      logloss,
      ne: base > 0 ? logloss / base : NaN,
      calibration: wClicks > 0 ? this.sumP.value / wClicks : NaN,
      ctr,
      examples: n,
      bayesLogloss,
    };
  }
}
