/**
 * @module Streaming quality figures of one scope (a window, a lifetime, a slice of either): per-bin
 * click and non-click counts for the AUC (./auc-bins.ts) and running sums for logloss, NE,
 * calibration and CTR, each example added, and for a window taken out again, in O(1).
 *
 * Exactness. Counts (examples, clicks, per bin) are integers, exact in float64 below 2^53. The sums
 * of p, of the logloss terms and of the Bayes logloss terms are Neumaier-compensated (Neumaier
 * 1974, "Rundungsfehleranalyse einiger Verfahren zur Summation endlicher Summen"): the sum of any
 * sequence of adds and takes is within 2 u |S| + O(n u^2) sum |x| of the exact one (u = 2^-53),
 * so a window's sum does not drift as examples pass through it; ProgressiveMetrics also re-sums a
 * window from its ring buffer every 16 times the ring wraps (resetSums + addSums), which bounds n
 * by 32 windows. The figures equal a float64 re-derivation to ~1e-15 relative (test/unit/train).
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
 * The accumulators of one scope. `counts`: Uint32Array for a window (at most 2^32 - 1 examples),
 * Float64Array for a lifetime. Memory: 2 K counts (K = binning.count; 4 or 8 bytes each) + ~100 bytes.
 */
export class StreamFigures {
  readonly binning: Binning;
  /** [K] clicks per bin. */
  readonly pos: Uint32Array | Float64Array;
  /** [K] non-clicks per bin. */
  readonly neg: Uint32Array | Float64Array;
  examples = 0;
  clicks = 0;
  /** Examples whose prediction was NaN or infinite (every figure but CTR is undefined while > 0). */
  nonFinite = 0;
  /** Examples without a Bayes probability (the Bayes logloss is undefined while > 0). */
  withoutBayes = 0;
  readonly sumP = new CompensatedSum();
  readonly sumLogloss = new CompensatedSum();
  readonly sumBayesLogloss = new CompensatedSum();

  /** @param kind `window` (Uint32 counts) or `lifetime` (Float64 counts). */
  constructor(b: Binning, kind: 'window' | 'lifetime') {
    this.binning = b;
    this.pos = kind === 'window' ? new Uint32Array(b.count) : new Float64Array(b.count);
    this.neg = kind === 'window' ? new Uint32Array(b.count) : new Float64Array(b.count);
  }

  /** Bytes of the count arrays. */
  get bytes(): number {
    return this.pos.byteLength + this.neg.byteLength;
  }

  /**
   * Adds (sign 1) or takes out (sign -1, an example added before) one example: its bin (NO_BIN when
   * its prediction p is not finite), label, p, logloss term and Bayes logloss term (NaN: none).
   */
  update(sign: 1 | -1, bin: number, clicked: boolean, p: number, ll: number, bayesLl: number): void {
    this.examples += sign;
    if (clicked) this.clicks += sign;
    if (bin === NO_BIN) this.nonFinite += sign;
    else {
      if (clicked) this.pos[bin] += sign;
      else this.neg[bin] += sign;
      this.sumP.add(sign * p);
      this.sumLogloss.add(sign * ll);
    }
    if (Number.isNaN(bayesLl)) this.withoutBayes += sign;
    else this.sumBayesLogloss.add(sign * bayesLl);
  }

  /** Zeroes the three sums (before addSums re-sums them from the examples held). */
  resetSums(): void {
    this.sumP.reset();
    this.sumLogloss.reset();
    this.sumBayesLogloss.reset();
  }

  /** Adds one held example's terms to the sums only (counts unchanged); see resetSums. */
  addSums(bin: number, p: number, ll: number, bayesLl: number): void {
    if (bin !== NO_BIN) {
      this.sumP.add(p);
      this.sumLogloss.add(ll);
    }
    if (!Number.isNaN(bayesLl)) this.sumBayesLogloss.add(bayesLl);
  }

  /**
   * The figures (QualityFigures; undefined ones NaN): O(K) for the AUC, O(1) for the rest. Logloss
   * = sum of terms / examples; NE = logloss / H(ctr); calibration = sum p / clicks; CTR = clicks /
   * examples.
   */
  figures(): QualityFigures {
    const n = this.examples;
    const ctr = n > 0 ? this.clicks / n : NaN;
    const bayesLogloss = n > 0 && this.withoutBayes === 0 ? this.sumBayesLogloss.value / n : NaN;
    if (n === 0 || this.nonFinite > 0) {
      const nan = NaN;
      return { auc: nan, aucErrorBound: nan, logloss: nan, ne: nan, calibration: nan, ctr, examples: n, bayesLogloss };
    }
    const logloss = this.sumLogloss.value / n;
    const base = baseEntropy(ctr);
    const { auc, bound } = binnedAuc(this.pos, this.neg);
    return {
      auc,
      aucErrorBound: bound,
      logloss,
      ne: base > 0 ? logloss / base : NaN,
      calibration: this.clicks > 0 ? this.sumP.value / this.clicks : NaN,
      ctr,
      examples: n,
      bayesLogloss,
    };
  }
}
