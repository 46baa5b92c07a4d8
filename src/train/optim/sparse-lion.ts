import type { RowStore } from '../../model/row-store.ts';
import type { LionParams } from './lion-config.ts';
import { catchUpRow, constantCatchUp, lionRowUpdate, scheduledCatchUp } from './lion-rule.ts';
import type { LrFunction } from './schedule.ts';

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
 * float32 or bfloat16 (Uint16Array of bf16 bits, round-to-nearest-even). The arithmetic of
 * the update and the catch-up is lion-rule.ts's; this file visits the rows.
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

/** The state a sparse step reads and writes: one table's row blocks (see RowStore). */
export type SparseRows = RowStore;

/**
 * Applies one sparse Lion step to the `n` touched rows.
 * @param rows    the table's row store.
 * @param rowIds  [n] row indices, unique.
 * @param grads   [n, W] summed gradients, row i for rowIds[i].
 * @param step    global step number (0-based), stored as the rows' lastStep.
 * @param lrAt    lr multiplier of a step (the lr schedule); default 1 for every step. The
 *                catch-up uses a closed form when `constantLr` is true, else the schedule's
 *                partial products and sums (schedule-sums.ts; keep `lrAt` the same function
 *                from step to step, its sums are cached per function and group).
 */
export function sparseLionStep(
  rows: SparseRows,
  rowIds: Int32Array,
  n: number,
  grads: Float32Array,
  group: SparseLionGroup,
  step: number,
  lrAt: LrFunction = () => 1,
  constantLr = true,
): void {
  const W = rows.width,
    S = rows.stride,
    meta = rows.metaOff,
    count = rows.countHalf,
    chunks = rows.chunks,
    sh = rows.shift,
    cm = rows.chunkMask,
    mode = group.mode ?? 'lazy';
  const e = group.embedding,
    l = group.linear ?? group.embedding,
    exact = mode === 'exact';
  const mult = lrAt(step);
  for (let i = 0; i < n; i++) {
    // group prefetch: before updating a group of rows, a short loop touches every cache
    // line of their blocks so that the misses overlap (the update loop is too long for
    // the CPU to run ahead into the next rows by itself)
    if ((i & (PREFETCH_GROUP - 1)) === 0) touchRows(rows, rowIds, i, Math.min(n, i + PREFETCH_GROUP), S);
    const r = rowIds[i],
      ch = chunks[r >>> sh],
      words = ch.words,
      o = (r & cm) * S;
    const last = words[o + meta];
    const k = step - last - 1;
    if (mode !== 'lazy' && k > 0) {
      catchUpRow(rows, ch, o, 0, 1, l, exact, factors(l, last + 1, k, lrAt, constantLr));
      catchUpRow(rows, ch, o, 1, W, e, exact, factors(e, last + 1, k, lrAt, constantLr));
    }
    lionRowUpdate(rows, ch, o, i * W, 0, 1, l, mult, grads);
    lionRowUpdate(rows, ch, o, i * W, 1, W, e, mult, grads);
    words[o + meta] = step;
    if (count < 0) words[o + meta + 1]++;
    else if (ch.half[2 * o + count] !== 0xffff) ch.half[2 * o + count]++; // bf16 layout: a saturating uint16
  }
}

/**
 * Catch-up factors [M, A, D] of k idle steps from `first` (lion-rule.ts): the closed form
 * when the lr is constant, else the schedule's partial products and sums (O(1) per row,
 * O(k/1024) past segments).
 */
function factors(p: LionParams, first: number, k: number, lrAt: LrFunction, constantLr: boolean): Float64Array {
  return constantLr ? constantCatchUp(p, p.lr * lrAt(first), k) : scheduledCatchUp(p, first, k, lrAt);
}

/** Rows per group prefetch (a power of two); 32 rows of 136 B stay well inside L1/L2. */
const PREFETCH_GROUP = 32;
/** Sink of the touch loads, so that the JIT cannot drop them. */
export let touchSink = 0;

/** Reads one word per 64-byte line of the blocks of rowIds[i0..i1) (stride S words). */
function touchRows(rows: RowStore, rowIds: Int32Array, i0: number, i1: number, S: number): void {
  const chunks = rows.chunks,
    sh = rows.shift,
    cm = rows.chunkMask;
  let t = 0;
  for (let i = i0; i < i1; i++) {
    const r = rowIds[i],
      words = chunks[r >>> sh].words,
      o = (r & cm) * S;
    for (let w = 0; w < S; w += 16) t += words[o + w];
    t += words[o + S - 1];
  }
  touchSink = t;
}
