import type { LionParams } from './lion-config.ts';

/**
 * Sparse-aware Lion for embedding rows (DESIGN.md "Lion, sparse-aware"), `lazy` mode:
 * only the rows touched in a step are updated; idle rows and their momentum are frozen
 * (as LazyAdam, TorchRec and Monolith do). Gradients of duplicate ids must be summed
 * before the call (see RowGradients), since sign() is non-linear.
 *
 * Per coordinate of a touched row (Chen et al. 2023, Algorithm 2):
 *   c = beta1 * m + (1 - beta1) * g;  theta -= lr * (sign(c) + wd * theta);  m = beta2 * m + (1 - beta2) * g
 *
 * Column 0 of a row (the linear weight) may use its own lr / wd (`linear`).
 */
export interface SparseLionGroup {
  /** Settings of the embedding columns 1..W-1. */
  embedding: LionParams;
  /** Settings of column 0 (the linear weight); defaults to `embedding`. */
  linear?: LionParams;
}

/** The state a sparse step reads and writes: one table's arrays (see EmbeddingTable). */
export interface SparseRows {
  width: number;
  weights: Float32Array;
  momentum: Float32Array;
  lastStep: Int32Array;
  /** [capacity] updates each row has had (the per-row schedule's clock). */
  updates: Int32Array;
}

/**
 * Applies one lazy Lion step to the `n` touched rows.
 * @param rows    table state, [capacity, W] weights and momentum.
 * @param rowIds  [n] row indices, unique.
 * @param grads   [n, W] summed gradients, row i for rowIds[i].
 * @param step    global step number, stored in lastStep.
 * @param lrScale multiplier of both groups' lr (the lr schedule's value at this step).
 */
export function sparseLionStep(rows: SparseRows, rowIds: Int32Array, n: number, grads: Float32Array, group: SparseLionGroup, step: number, lrScale = 1): void {
  const W = rows.width, w = rows.weights, mom = rows.momentum;
  const e = group.embedding, l = group.linear ?? group.embedding;
  const b1E = e.beta1, b2E = e.beta2, b1L = l.beta1, b2L = l.beta2;
  const lrE = e.lr * lrScale, decE = 1 - lrE * e.weightDecay;
  const lrL = l.lr * lrScale, decL = 1 - lrL * l.weightDecay;
  const upd = rows.updates;
  for (let i = 0; i < n; i++) {
    const r = rowIds[i];
    const o = r * W, go = i * W;
    // column 0: linear weight
    {
      const g = grads[go], m = mom[o];
      const c = b1L * m + (1 - b1L) * g;
      w[o] = decL * w[o] - lrL * (c > 0 ? 1 : c < 0 ? -1 : 0);
      mom[o] = b2L * m + (1 - b2L) * g;
    }
    for (let j = 1; j < W; j++) {
      const g = grads[go + j], m = mom[o + j];
      const c = b1E * m + (1 - b1E) * g;
      w[o + j] = decE * w[o + j] - lrE * (c > 0 ? 1 : c < 0 ? -1 : 0);
      mom[o + j] = b2E * m + (1 - b2E) * g;
    }
    rows.lastStep[r] = step;
    upd[r]++;
  }
}
