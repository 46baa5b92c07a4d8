/**
 * The one JS source of Lion's sparse arithmetic on a row block (RowStore layout), used by
 * the JS sparse step (sparse-lion.ts, float32 and bfloat16 momentum alike) and by the
 * wasm kernel's host side (its catch-up tables and factors, wasm/catch-up-tables.ts); the
 * kernel itself (wasm/kernel/, AssemblyScript) is the same formulas in another language,
 * the dense tfjs step (dense-lion.ts) the same update as tensor ops.
 *
 * Update (Chen et al. 2023, Algorithm 2), per coordinate:
 *   c = beta1 m + (1 - beta1) g;  theta <- theta - lr (sign(c) + wd theta);  m <- beta2 m + (1 - beta2) g
 * Catch-up of k idle steps first..first+k-1 (DESIGN.md "Lion, sparse-aware"; sparse-lion.ts
 * module doc), with a_s = 1 - lr_s wd:
 *   M = beta2^k,  A = prod_s a_s,  D = sum_s lr_s prod_{s' > s} a_s'
 *   decayed: theta <- A theta;  exact: theta <- A theta - D sign(m);  both: m <- M m
 * at a constant lr: A = a^k, D = lr (1 - a^k) / (1 - a) (k lr when wd = 0).
 */
import type { RowChunk, RowStore } from '../../model/row-store.ts';
import { fromBf16, toBf16 } from './bf16.ts';
import type { LionParams } from './lion-config.ts';
import { constantLrDrift, scheduleSumsFor } from './schedule-sums.ts';
import type { LrFunction } from './schedule.ts';

/**
 * The Lion step on columns [j0, j1) of the row block at word o of chunk ch (rows.chunk(r),
 * o = rows.at(r)), gradients from
 * grads[go + j] (float32), lr = p.lr * mult. Momentum float32 or bfloat16 (read widened,
 * written rounded to nearest even); arithmetic in float64, rounded on store.
 */
export function lionRowUpdate(
  rows: RowStore,
  ch: RowChunk,
  o: number,
  go: number,
  j0: number,
  j1: number,
  p: LionParams,
  mult: number,
  grads: Float32Array,
): void {
  const d = ch.data,
    h = ch.half,
    bf = rows.dtype === 'bfloat16',
    om = o + rows.momOff,
    hm = 2 * om;
  const lr = p.lr * mult,
    b1 = p.beta1,
    b2 = p.beta2,
    dec = 1 - lr * p.weightDecay;
  for (let j = j0; j < j1; j++) {
    const g = grads[go + j],
      m = bf ? fromBf16(h[hm + j]) : d[om + j];
    const c = b1 * m + (1 - b1) * g;
    // branch-free sign: the signs of c are random, so a branch would mispredict half the time
    d[o + j] = dec * d[o + j] - lr * (+(c > 0) - +(c < 0));
    const next = b2 * m + (1 - b2) * g;
    if (bf) h[hm + j] = toBf16(next);
    else d[om + j] = next;
  }
}

/**
 * Catch-up factors, [M, A, D] of the module doc (float64), written by constantCatchUp() and
 * scheduledCatchUp(): one shared array, read before the next call (no allocation per row).
 */
const catchUpOut = new Float64Array(3);

/** [M, A, D] into catchUpOut of k idle steps of group p at the constant lr `lr` (absolute, not a multiplier). */
export function constantCatchUp(p: LionParams, lr: number, k: number): Float64Array {
  const pw = powersFor(p, lr),
    out = catchUpOut;
  out[0] = pw.beta2(k);
  out[1] = pw.decay(k);
  out[2] = constantLrDrift(lr, p.weightDecay, k, out[1]);
  return out;
}

/**
 * [M, A, D] into catchUpOut of the k idle steps first..first+k-1 of group p under the
 * schedule lrAt (lr_s = p.lr lrAt(s)), from its partial products and sums (schedule-sums.ts;
 * keep lrAt the same function from step to step, its sums are cached per function and group).
 */
export function scheduledCatchUp(p: LionParams, first: number, k: number, lrAt: LrFunction): Float64Array {
  const out = catchUpOut;
  out[0] = powersFor(p, p.lr).beta2(k);
  const [A, D] = scheduleSumsFor(lrAt, p).range(first, k);
  out[1] = A;
  out[2] = D;
  return out;
}

/**
 * Applies catch-up factors f = [M, A, D] to columns [j0, j1) of the row block at word o of
 * chunk ch:
 * decayed (x false) or exact (x true); an idle step's c is beta1 m, so the drift's sign is
 * sign(m) (none when beta1 = 0).
 */
// biome-ignore format: the row block, the column range, then the catch-up's settings and factors
export function catchUpRow(r: RowStore, ch: RowChunk, o: number, j0: number, j1: number,
  p: LionParams, x: boolean, f: Float64Array): void {
  const d = ch.data,
    h = ch.half,
    bf = r.dtype === 'bfloat16';
  const om = o + r.momOff,
    hm = 2 * om,
    mk = f[0],
    A = f[1],
    D = f[2];
  for (let j = j0; j < j1; j++) {
    const m = bf ? fromBf16(h[hm + j]) : d[om + j];
    if (x) d[o + j] = A * d[o + j] - (p.beta1 > 0 ? D * (m > 0 ? 1 : m < 0 ? -1 : 0) : 0);
    else d[o + j] = A * d[o + j];
    if (bf) h[hm + j] = toBf16(mk * m);
    else d[om + j] = mk * m;
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
  constructor(
    readonly beta: number,
    readonly lr: number,
    wd: number,
  ) {
    this.a = 1 - lr * wd;
    this.b2[0] = 1;
    this.ak[0] = 1;
  }
  private fill(k: number): void {
    for (let i = this.filled; i <= k; i++) {
      this.b2[i] = this.b2[i - 1] * this.beta;
      this.ak[i] = this.ak[i - 1] * this.a;
    }
    this.filled = k + 1;
  }
  beta2(k: number): number {
    if (k >= this.b2.length) return this.beta ** k;
    if (k >= this.filled) this.fill(k);
    return this.b2[k];
  }
  decay(k: number): number {
    if (k >= this.ak.length) return this.a ** k;
    if (k >= this.filled) this.fill(k);
    return this.ak[k];
  }
}
const powers = new WeakMap<LionParams, Powers>();
function powersFor(p: LionParams, lr: number): Powers {
  let w = powers.get(p);
  if (!w || w.lr !== lr || w.beta !== p.beta2) {
    w = new Powers(p.beta2, lr, p.weightDecay);
    powers.set(p, w);
  }
  return w;
}
