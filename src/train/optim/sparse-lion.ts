import { fromBf16, toBf16 } from './bf16.ts';
import type { LionParams } from './lion-config.ts';

/**
 * Sparse-aware Lion for embedding rows (DESIGN.md "Lion, sparse-aware"). Gradients of
 * duplicate ids must be summed before the call (see RowGradients), since sign() is
 * non-linear. Only the rows touched in a step are visited; the three modes differ only
 * in the catch-up applied to a row idle for k steps before its normal step:
 *
 *   lazy:     nothing: idle rows and their momentum stay frozen (LazyAdam, TorchRec, Monolith);
 *   decayed:  m <- beta2^k m, theta <- prod(1 - lr_s wd) theta  (what the idle steps do to
 *             momentum and weight decay, without the sign drift);
 *   exact:    what dense Lion does with zero gradients: sign(c) = sign(m) on every idle step,
 *             so with a = 1 - lr wd:  theta <- a^k theta - lr sign(m) (1 - a^k)/(1 - a)
 *             (k lr sign(m) when wd = 0), m <- beta2^k m. Identical to dense Lion.
 *
 * then the normal step per coordinate (Chen et al. 2023, Algorithm 2):
 *   c = beta1 m + (1 - beta1) g;  theta <- theta - lr (sign(c) + wd theta);  m <- beta2 m + (1 - beta2) g
 *
 * Column 0 of a row (the linear weight) may use its own settings (`linear`). Momentum is
 * float32 or bfloat16 (Uint16Array of bf16 bits, round-to-nearest-even).
 */
export type SparseMode = 'lazy' | 'decayed' | 'exact';

export interface SparseLionGroup {
  /** Settings of the embedding columns 1..W-1. */
  embedding: LionParams;
  /** Settings of column 0 (the linear weight); defaults to `embedding`. */
  linear?: LionParams;
  /** Catch-up of idle rows; default `lazy`. */
  mode?: SparseMode;
}

/** The state a sparse step reads and writes: one table's arrays (see EmbeddingTable). */
export interface SparseRows {
  width: number;
  /** [capacity, W] float32 values. */
  weights: Float32Array;
  /** [capacity, W] momentum: float32, or bfloat16 bits. */
  momentum: Float32Array | Uint16Array;
  /** [capacity] the last step whose update the row has had (its catch-up starts after it). */
  lastStep: Int32Array;
  /** [capacity] updates each row has had. */
  updates: Int32Array;
}

/**
 * Applies one sparse Lion step to the `n` touched rows.
 * @param rows    table state.
 * @param rowIds  [n] row indices, unique.
 * @param grads   [n, W] summed gradients, row i for rowIds[i].
 * @param step    global step number (0-based), stored in lastStep.
 * @param lrAt    lr multiplier of a step (the lr schedule); default 1 for every step. The
 *                catch-up uses a closed form when `constantLr` is true, else visits each
 *                idle step (exact for any schedule, O(k) per row).
 */
export function sparseLionStep(rows: SparseRows, rowIds: Int32Array, n: number, grads: Float32Array, group: SparseLionGroup, step: number,
  lrAt: (s: number) => number = () => 1, constantLr = true): void {
  const W = rows.width, mode = group.mode ?? 'lazy';
  const e = group.embedding, l = group.linear ?? group.embedding;
  const mult = lrAt(step);
  for (let i = 0; i < n; i++) {
    const r = rowIds[i];
    const k = step - rows.lastStep[r] - 1;
    if (mode !== 'lazy' && k > 0) {
      catchUp(rows, r * W, 0, 1, l, mode, rows.lastStep[r] + 1, k, lrAt, constantLr);
      catchUp(rows, r * W, 1, W, e, mode, rows.lastStep[r] + 1, k, lrAt, constantLr);
    }
    update(rows, r * W, i * W, 0, 1, l, mult, grads);
    update(rows, r * W, i * W, 1, W, e, mult, grads);
    rows.lastStep[r] = step;
    rows.updates[r]++;
  }
}

/** The normal Lion step on columns [j0, j1) of the row at offset o. */
function update(rows: SparseRows, o: number, go: number, j0: number, j1: number, p: LionParams, mult: number, grads: Float32Array): void {
  const w = rows.weights, mom = rows.momentum;
  const lr = p.lr * mult, b1 = p.beta1, b2 = p.beta2, dec = 1 - lr * p.weightDecay;
  if (mom instanceof Float32Array) {
    for (let j = j0; j < j1; j++) {
      const g = grads[go + j], m = mom[o + j];
      const c = b1 * m + (1 - b1) * g;
      // branch-free sign: the signs of c are random, so a branch would mispredict half the time
      w[o + j] = dec * w[o + j] - lr * (+(c > 0) - +(c < 0));
      mom[o + j] = b2 * m + (1 - b2) * g;
    }
  } else {
    for (let j = j0; j < j1; j++) {
      const g = grads[go + j], m = fromBf16(mom[o + j]);
      const c = b1 * m + (1 - b1) * g;
      w[o + j] = dec * w[o + j] - lr * (c > 0 ? 1 : c < 0 ? -1 : 0);
      mom[o + j] = toBf16(b2 * m + (1 - b2) * g);
    }
  }
}

/** Catch-up of k idle steps first..first+k-1 on columns [j0, j1) (see the module doc). */
function catchUp(rows: SparseRows, o: number, j0: number, j1: number, p: LionParams, mode: SparseMode, first: number, k: number,
  lrAt: (s: number) => number, constantLr: boolean): void {
  const w = rows.weights, mom = rows.momentum, bf = !(mom instanceof Float32Array);
  const mk = p.beta2 ** k;
  // decay product A = prod(1 - lr_s wd) and drift D = sum_s lr_s prod_{s' > s}(1 - lr_s' wd)
  let A: number, D: number;
  if (constantLr) {
    const lr = p.lr * lrAt(first), a = 1 - lr * p.weightDecay;
    A = a ** k;
    D = p.weightDecay === 0 ? k * lr : (lr * (1 - A)) / (1 - a);
  } else {
    A = 1; D = 0;
    for (let s = first; s < first + k; s++) {
      const lr = p.lr * lrAt(s), a = 1 - lr * p.weightDecay;
      A *= a; D = D * a + lr;
    }
  }
  for (let j = j0; j < j1; j++) {
    const m = bf ? fromBf16(mom[o + j]) : mom[o + j];
    // an idle step's c is beta1 * m: its sign is sign(m) (0 when beta1 = 0)
    if (mode === 'exact') w[o + j] = A * w[o + j] - (p.beta1 > 0 ? D * (m > 0 ? 1 : m < 0 ? -1 : 0) : 0);
    else w[o + j] = A * w[o + j];
    mom[o + j] = bf ? toBf16(mk * m) : mk * m;
  }
}
