/**
 * Scores the examples of one request with the version it holds: featurize, then the model in
 * chunks of PREDICT_CHUNK with a turn of the event loop between them (so /readyz, /metrics
 * and small requests are answered meanwhile; the model's serving tower may also take a turn,
 * onnxruntime's run being async). The caller holds the version (acquire/release) across every
 * turn, so a swap during the request cannot free the model (its tensors and ONNX session) under it.
 *
 * A delta export applied in place (src/serve/delta-applier.ts) must not fall between two chunks
 * of one request: chunked requests are counted per model (chunkedInFlight) and the delta waits
 * for them. A request of one chunk needs no count: CtrModel.score reads its rows and takes its
 * serving tower in one synchronous stretch before it awaits the tower, so it sees a delta
 * wholly or not at all.
 */
import { LionctrError } from '../errors.ts';
import { type FeatureBatch, sliceBatch } from '../features/feature-batch.ts';
import type { CtrModel } from '../model/ctr-model.ts';
import { recalibrate, servingRulesOf } from '../model/serving-rules.ts';
import type { ServedModel } from './model-registry.ts';

/** Instances scored per turn of the event loop. */
export const PREDICT_CHUNK = 1024;

const chunked = new WeakMap<CtrModel, number>();

/** Requests scoring with `model` now over more than one chunk (several turns of the event loop). */
export const chunkedInFlight = (model: CtrModel): number => chunked.get(model) ?? 0;

/** Waits one turn of the event loop (setImmediate). */
export const nextTurn = (): Promise<void> => new Promise<void>((r) => setImmediate(r));

/**
 * Click probabilities of `rows` ({slot: value} objects) under `served`, one per row: scoreBatch
 * of their features.
 * @throws LionctrError from the featurizer (400, bad instance); as scoreBatch.
 */
export async function scoreRows(
  served: ServedModel,
  rows: unknown[],
  where: (i: number) => string,
  yieldTurn: () => Promise<void> = nextTurn,
): Promise<number[]> {
  return scoreBatch(served, served.featurizer.fromInstances(rows), where, yieldTurn);
}

/**
 * Click probabilities of the examples of `batch` (featurized by `served.featurizer`) under
 * `served`, one per example; recalibrated (in float64) when the export was trained on a log with
 * downsampled negatives (its manifest's `featurization.output.negative_rate`; serving-rules.ts).
 * @param yieldTurn awaited between chunks (default nextTurn; tests pass a hook).
 * @param where names example i in a message (`instances[3]`).
 * @throws LionctrError LIONCTR_INTERNAL (500) when the model gives a non-finite score: JSON has
 *   no NaN, and a prediction is never null (it would be) — the message names the version and the row.
 */
export async function scoreBatch(
  served: ServedModel,
  batch: FeatureBatch,
  where: (i: number) => string,
  yieldTurn: () => Promise<void> = nextTurn,
): Promise<number[]> {
  const predictions = new Array<number>(batch.size);
  const { model } = served,
    multi = batch.size > PREDICT_CHUNK;
  const r = servingRulesOf(served.manifest).negativeRate;
  if (multi) chunked.set(model, chunkedInFlight(model) + 1);
  try {
    for (let s = 0; s < batch.size; s += PREDICT_CHUNK) {
      if (s > 0) await yieldTurn();
      const p = await model.score(multi ? sliceBatch(batch, s, Math.min(batch.size, s + PREDICT_CHUNK)) : batch);
      for (let i = 0; i < p.length; i++) predictions[s + i] = recalibrate(p[i], r);
    }
  } finally {
    if (multi) chunked.set(model, chunkedInFlight(model) - 1);
  }
  const bad = predictions.findIndex((p) => !Number.isFinite(p));
  if (bad >= 0) {
    const msg = `model version ${served.version} gave a non-finite score (${predictions[bad]}) for ${where(bad)}`;
    throw new LionctrError('LIONCTR_INTERNAL', msg, { where: where(bad) });
  }
  return predictions;
}
