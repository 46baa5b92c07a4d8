/**
 * @module Binned ROC AUC with a stated error bound: predictions go to one of K bins, monotone in p,
 * each bin counts its clicks and non-clicks, and the AUC of those counts is read in O(K).
 *
 * Bins. q = min(p, 1 - p) is rounded to float32 and its bit pattern (exponent and the top `bits`
 * mantissa bits) numbers the bin: bins are log-spaced in q on each side of 0.5, i.e. nearly uniform in
 * logit, of logit width at most 1.34 * 2^-bits (q in [2^e, 2^(e+1)) is cut in steps of 2^(e-bits), and
 * d logit = dq / (q (1 - q)) with q <= 1/2), over |logit| <= 16.6 (q >= 2^-24; p is clipped to
 * 1e-7 before a log anyway); smaller q share the outermost bins. bits = 10: K = 47,106 bins of logit
 * width <= 0.0013. Every step (clip to [0, 1], 1 - p, the rounding to float32, the bit shift) is
 * monotone, so p < p' implies bin(p) <= bin(p'): no log, whose rounding might not be.
 *
 * Bound. AUC = (1 / PN) sum over click i, non-click j of [s_i > s_j] + [s_i = s_j] / 2 (mid-ranks,
 * Mann-Whitney U). The binned AUC replaces s by bin(s). A pair in different bins is ordered the same
 * way by both (the binning is monotone); a pair in the same bin counts 1/2 in the binned AUC and 0,
 * 1/2 or 1 in the exact one. Hence, with pos_b / neg_b the clicks / non-clicks of bin b,
 *   |AUC_binned - AUC_exact| <= sum_b pos_b * neg_b / (2 P N),
 * a bound computed from the same counts (lionctr_progressive_auc_error_bound). It is a worst case
 * (every same-bin pair ordered against the model); the actual error is usually far smaller.
 */

/** The shape of one binning: `bits` mantissa bits, H bins per side of p = 0.5, K = 2H bins. */
export interface Binning {
  bits: number;
  /** Bins per side: 23 * 2^bits + 1 (float32 exponents of 2^-24 .. 2^-1, then q = 1/2 itself). */
  half: number;
  /** K, all bins. */
  count: number;
}

/** Biased float32 exponent of 2^-24, the smallest q with a bin of its own. */
const LOW_EXPONENT = 127 - 24;

/** The binning with `bits` mantissa bits (1..12). */
export function binning(bits: number): Binning {
  const half = 23 * 2 ** bits + 1;
  return { bits, half, count: 2 * half };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The bin of prediction p in [0, 1] (clipped to it; p must not be NaN): 0 .. K-1, non-decreasing
 * in p (see the module doc).
 */
export function binOf(p: number, b: Binning): number {
  const x = Math.max(0, Math.min(1, p));
  const upper = x >= 0.5;
  f32[0] = upper ? 1 - x : x;
  const raw = (u32[0] >>> (23 - b.bits)) - (LOW_EXPONENT << b.bits);
  const k = Math.max(0, Math.min(b.half - 1, raw));
  return upper ? b.count - 1 - k : k;
}

/**
 * The bin of a coarser binning `to` (fewer bits) holding bin `bin` of `from`: the same as
 * binOf(p, to) for every p of that bin, so a coarse binning is read from the fine bins kept.
 */
export function coarsen(bin: number, from: Binning, to: Binning): number {
  const shift = from.bits - to.bits;
  return bin < from.half ? bin >> shift : to.count - 1 - ((from.count - 1 - bin) >> shift);
}

/** A binned AUC and its bound (see the module doc); NaN while there is no click or no non-click. */
export interface BinnedAuc {
  auc: number;
  /** sum_b pos_b neg_b / (2 P N) >= |auc - exact AUC|. */
  bound: number;
}

/**
 * AUC of per-bin click counts `pos` and non-click counts `neg` ([K], bins ascending in p), with
 * its bound; O(K). Counts may be weights (sums of example weights w >= 0): the figure is then the
 * weighted Mann-Whitney statistic, sum over click i, non-click j of w_i w_j ([s_i > s_j] + [s_i =
 * s_j] / 2) / (W+ W-), and the bound, sum_b pos_b neg_b / (2 W+ W-), holds the same way. U and the
 * tie sum are float64 sums of K products (relative rounding error below K * 2^-53).
 */
export function binnedAuc(pos: ArrayLike<number>, neg: ArrayLike<number>): BinnedAuc {
  let negBelow = 0,
    u = 0,
    ties = 0;
  for (let b = 0; b < pos.length; b++) {
    const pb = pos[b],
      nb = neg[b];
    if (pb !== 0) {
      u += pb * (negBelow + nb / 2);
      ties += pb * nb;
    }
    negBelow += nb;
  }
  let clicks = 0;
  for (let b = 0; b < pos.length; b++) clicks += pos[b];
  const pairs = clicks * negBelow;
  if (pairs === 0) return { auc: NaN, bound: NaN };
  return { auc: u / pairs, bound: ties / (2 * pairs) };
}
