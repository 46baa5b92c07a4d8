import type { RowStore } from '../../model/row-store.ts';
import { fromBf16, toBf16 } from './bf16.ts';
import type { LionParams } from './lion-config.ts';
import { constantLrDrift, scheduleSumsFor } from './schedule-sums.ts';
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
export function sparseLionStep(rows: SparseRows, rowIds: Int32Array, n: number, grads: Float32Array, group: SparseLionGroup, step: number,
  lrAt: LrFunction = () => 1, constantLr = true): void {
  const W = rows.width, S = rows.stride, meta = rows.metaOff, words = rows.words, mode = group.mode ?? 'lazy';
  const e = group.embedding, l = group.linear ?? group.embedding;
  const mult = lrAt(step);
  const bf = rows.dtype === 'bfloat16';
  for (let i = 0; i < n; i++) {
    // group prefetch: before updating a group of rows, a short loop touches every cache
    // line of their blocks so that the misses overlap (the update loop is too long for
    // the CPU to run ahead into the next rows by itself)
    if ((i & (PREFETCH_GROUP - 1)) === 0) touchRows(words, rowIds, i, Math.min(n, i + PREFETCH_GROUP), S);
    const o = rowIds[i] * S;
    const last = words[o + meta];
    const k = step - last - 1;
    if (mode !== 'lazy' && k > 0) {
      catchUp(rows, o, 0, 1, l, mode, last + 1, k, lrAt, constantLr);
      catchUp(rows, o, 1, W, e, mode, last + 1, k, lrAt, constantLr);
    }
    if (bf) { updateBf16(rows, o, i * W, 0, 1, l, mult, grads); updateBf16(rows, o, i * W, 1, W, e, mult, grads); }
    else { updateF32(rows.data, o, rows.momOff, i * W, 0, 1, l, mult, grads); updateF32(rows.data, o, rows.momOff, i * W, 1, W, e, mult, grads); }
    words[o + meta] = step;
    words[o + meta + 1]++;
  }
}

/** Rows per group prefetch (a power of two); 32 rows of 136 B stay well inside L1/L2. */
const PREFETCH_GROUP = 32;
/** Sink of the touch loads, so that the JIT cannot drop them. */
export let touchSink = 0;

/** Reads one word per 64-byte line of the blocks of rowIds[i0..i1) (stride S words). */
function touchRows(words: Int32Array | Uint32Array, rowIds: Int32Array, i0: number, i1: number, S: number): void {
  let t = 0;
  for (let i = i0; i < i1; i++) {
    const o = rowIds[i] * S;
    for (let w = 0; w < S; w += 16) t += words[o + w];
    t += words[o + S - 1];
  }
  touchSink = t;
}

/** The normal Lion step on columns [j0, j1) of the block at word o, float32 momentum at o + mo. */
function updateF32(d: Float32Array, o: number, mo: number, go: number, j0: number, j1: number, p: LionParams, mult: number, grads: Float32Array): void {
  const lr = p.lr * mult, b1 = p.beta1, b2 = p.beta2, dec = 1 - lr * p.weightDecay;
  const om = o + mo;
  for (let j = j0; j < j1; j++) {
    const g = grads[go + j], m = d[om + j];
    const c = b1 * m + (1 - b1) * g;
    // branch-free sign: the signs of c are random, so a branch would mispredict half the time
    d[o + j] = dec * d[o + j] - lr * (+(c > 0) - +(c < 0));
    d[om + j] = b2 * m + (1 - b2) * g;
  }
}

/** The same with bfloat16 momentum (read widened, written rounded to nearest even). */
function updateBf16(rows: SparseRows, o: number, go: number, j0: number, j1: number, p: LionParams, mult: number, grads: Float32Array): void {
  const d = rows.data, h = rows.half, hm = 2 * (o + rows.momOff);
  const lr = p.lr * mult, b1 = p.beta1, b2 = p.beta2, dec = 1 - lr * p.weightDecay;
  for (let j = j0; j < j1; j++) {
    const g = grads[go + j], m = fromBf16(h[hm + j]);
    const c = b1 * m + (1 - b1) * g;
    d[o + j] = dec * d[o + j] - lr * (+(c > 0) - +(c < 0));
    h[hm + j] = toBf16(b2 * m + (1 - b2) * g);
  }
}

/**
 * beta2^k and a^k (a = 1 - lr wd) of a group at a fixed lr, from tables filled by repeated
 * multiplication up to k = 65535 (two Math.pow per row and group cost more than the row's
 * update), Math.pow beyond.
 */
class Powers {
  readonly a: number;
  private readonly b2: Float64Array = new Float64Array(1 << 16);
  private readonly ak: Float64Array = new Float64Array(1 << 16);
  private filled = 1;
  constructor(readonly beta: number, readonly lr: number, wd: number) {
    this.a = 1 - lr * wd;
    this.b2[0] = 1; this.ak[0] = 1;
  }
  private fill(k: number): void {
    for (let i = this.filled; i <= k; i++) { this.b2[i] = this.b2[i - 1] * this.beta; this.ak[i] = this.ak[i - 1] * this.a; }
    this.filled = k + 1;
  }
  beta2(k: number): number { if (k >= this.b2.length) return this.beta ** k; if (k >= this.filled) this.fill(k); return this.b2[k]; }
  decay(k: number): number { if (k >= this.ak.length) return this.a ** k; if (k >= this.filled) this.fill(k); return this.ak[k]; }
}
const powers = new WeakMap<LionParams, Powers>();
function powersFor(p: LionParams, lr: number): Powers {
  let w = powers.get(p);
  if (!w || w.lr !== lr || w.beta !== p.beta2) powers.set(p, (w = new Powers(p.beta2, lr, p.weightDecay)));
  return w;
}

/** Catch-up of k idle steps first..first+k-1 on columns [j0, j1) of the block at word o (see the module doc). */
function catchUp(rows: SparseRows, o: number, j0: number, j1: number, p: LionParams, mode: SparseMode, first: number, k: number,
  lrAt: LrFunction, constantLr: boolean): void {
  const d = rows.data, h = rows.half, bf = rows.dtype === 'bfloat16';
  const om = o + rows.momOff, hm = 2 * om;
  const pw = powersFor(p, constantLr ? p.lr * lrAt(first) : p.lr);
  const mk = pw.beta2(k);
  // decay product A = prod(1 - lr_s wd) and drift D = sum_s lr_s prod_{s' > s}(1 - lr_s' wd)
  let A: number, D: number;
  if (constantLr) {
    A = pw.decay(k);
    D = constantLrDrift(pw.lr, p.weightDecay, k, A);
  } else {
    // partial products and sums of the schedule: O(1) per row (O(k/1024) past segments)
    [A, D] = scheduleSumsFor(lrAt, p).range(first, k);
  }
  for (let j = j0; j < j1; j++) {
    const m = bf ? fromBf16(h[hm + j]) : d[om + j];
    // an idle step's c is beta1 * m: its sign is sign(m) (0 when beta1 = 0)
    if (mode === 'exact') d[o + j] = A * d[o + j] - (p.beta1 > 0 ? D * (m > 0 ? 1 : m < 0 ? -1 : 0) : 0);
    else d[o + j] = A * d[o + j];
    if (bf) h[hm + j] = toBf16(mk * m); else d[om + j] = mk * m;
  }
}
