/**
 * Whether a model is fit to be written (checkpointed or exported): a diverged model, with NaN
 * or infinite weights, or finite weights so large that its logits overflow, is never saved
 * (issue 11, "a diverged run is trained, exported and served silently"). The export writer
 * refuses non-finite weights (assertFiniteWeights); the trainer also scores the last batch it
 * trained on before it writes anything (logitsFinite).
 */
import * as tf from '@tensorflow/tfjs-core';
import { LionctrError } from '../errors.ts';
import type { FeatureBatch } from '../features/feature-batch.ts';
import type { CtrModel } from '../model/ctr-model.ts';

/** One part of a model (a tower variable, an embedding table) with NaN or infinite weights. */
export interface NonFinitePart {
  /** `dense <variable name>` or `embeddings <slot>`. */
  where: string;
  /** Weights that are NaN or ±Infinity. */
  count: number;
  /** Weights of the part. */
  of: number;
}

/**
 * The parts of `model` holding NaN or infinite weights (tower variables, then the embedding
 * tables' weight columns of their `size` rows; optimizer state is not read). Each part is
 * summed in float64, which is finite iff every float32 in it is (1e9 float32s cannot
 * overflow a float64), and only a part whose sum is not finite is counted value by value.
 * Cost: one pass over the weights, 6-10 ns per weight on the 2-core machine (bench/nonfinite-check.ts).
 */
export function nonFiniteWeights(model: CtrModel): NonFinitePart[] {
  const out = nonFiniteDense(model);
  for (const t of model.tables) {
    const S = t.rows.stride,
      W = t.width,
      n = t.size,
      C = t.rows.chunkRows;
    // chunk by chunk, rows in order: the same sum as over one array
    let s = 0;
    for (let c = 0; c * C < n; c++) {
      const d = t.rows.chunks[c].data,
        m = Math.min(C, n - c * C);
      for (let r = 0; r < m; r++) for (let j = 0, o = r * S; j < W; j++) s += d[o + j];
    }
    if (Number.isFinite(s)) continue;
    let count = 0;
    for (let c = 0; c * C < n; c++) {
      const d = t.rows.chunks[c].data,
        m = Math.min(C, n - c * C);
      for (let r = 0; r < m; r++) for (let j = 0, o = r * S; j < W; j++) if (!Number.isFinite(d[o + j])) count++;
    }
    out.push({ where: `embeddings ${t.slot}`, count, of: n * W });
  }
  return out;
}

/** The tower variables of `model` holding NaN or infinite weights (see nonFiniteWeights). */
export function nonFiniteDense(model: CtrModel): NonFinitePart[] {
  const out: NonFinitePart[] = [];
  for (const v of model.tower.vars) {
    const bad = nonFiniteIn(`dense ${v.name}`, v.dataSync());
    if (bad) out.push(bad);
  }
  return out;
}

/**
 * `values` as a NonFinitePart named `where` when one of them is NaN or infinite, else null
 * (summed in float64 first, counted only when the sum is not finite; see nonFiniteWeights).
 */
export function nonFiniteIn(where: string, values: ArrayLike<number>): NonFinitePart | null {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  if (Number.isFinite(s)) return null;
  let count = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) count++;
  return { where, count, of: values.length };
}

/**
 * Throws unless every weight of `model` is finite (see nonFiniteWeights).
 * @param what what was about to be written, for the message (e.g. `an export under /x`).
 * @throws LionctrError LIONCTR_DIVERGED naming each part and its count of NaN or infinite
 *   weights, e.g. `refusing to write an export: NaN or infinite weights in dense tower/w0
 *   (12 of 3072), embeddings C1 (40 of 850)`.
 */
export function assertFiniteWeights(model: CtrModel, what: string): void {
  refuseNonFinite(nonFiniteWeights(model), what);
}

/**
 * Throws when `bad` is not empty (the check of assertFiniteWeights over parts found by the
 * caller, e.g. a delta export's dense tower and changed rows).
 * @throws LionctrError LIONCTR_DIVERGED as assertFiniteWeights.
 */
export function refuseNonFinite(bad: NonFinitePart[], what: string): void {
  if (bad.length === 0) return;
  const parts = bad.map((p) => `${p.where} (${p.count} of ${p.of})`).join(', ');
  throw new LionctrError(
    'LIONCTR_DIVERGED',
    `refusing to write ${what}: NaN or infinite weights in ${parts} (training diverged; lower the learning rates)`,
    { where: bad[0].where, reason: 'nonfinite_weights' },
  );
}

/**
 * Whether `model` gives a finite logit for every example of `batch` (its ids looked up
 * without admitting new ones): false for a model whose last update blew it up even while its
 * weights are still finite (e.g. |w| ~ 1e38, whose products overflow). One forward pass.
 */
export function logitsFinite(model: CtrModel, batch: FeatureBatch): boolean {
  if (batch.size === 0) return true;
  const g = model.gather(batch, false);
  let s = NaN;
  tf.tidy(() => {
    const x = tf.tensor2d(g.x, [batch.size, model.inputDim]);
    s = tf.sum(tf.add(model.deepLogits(x), tf.tensor1d(g.wide))).dataSync()[0];
  });
  return Number.isFinite(s);
}
