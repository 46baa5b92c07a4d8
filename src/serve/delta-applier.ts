/**
 * Applies a verified delta export (delta-reader.ts) to a served model: tombstoned rows are
 * removed, changed rows replace the rows of the same id or are inserted, and the dense tower's
 * weights are replaced (with its serving tower, delta-tower.ts); then the model serves as the
 * delta's version. Everything that can be refused was refused while reading, and the new ONNX
 * session is built beforehand, so applying is one synchronous stretch that does not fail
 * halfway: a request of one chunk (CtrModel.score reads rows and takes its tower synchronously)
 * sees the model wholly before or wholly after it.
 *
 * Chunked requests (more than PREDICT_CHUNK instances, src/serve/scoring.ts) read rows over
 * several turns: the registry applies in place only when none is scoring with the model
 * (chunkedInFlight), and after waiting `serve.deltaMaxDeferSeconds` applies to a copy instead
 * (copyWithDelta: old and new held at once while the old one drains, as in a full swap).
 * Measured by bench/delta-freshness.ts: the copy costs 20-50x the in-place apply.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CtrModel } from '../model/ctr-model.ts';
import type { ServingTower } from '../model/serving-tower.ts';
import type { ParsedDelta } from './delta-reader.ts';
import { applyPrepared, applyRows, type DeltaCounts, type PreparedRows, prepareRows } from './delta-slices.ts';
import { deltaOnnxTower, equipCopy } from './delta-tower.ts';
import type { ServedModel } from './model-registry.ts';
import { chunkedInFlight } from './scoring.ts';
import type { VersionSet } from './version-set.ts';

export type { DeltaCounts } from './delta-slices.ts';

/**
 * Applies `d` to `model` in place, synchronously: rows (applyRows, or applyPrepared with `prep` from
 * prepareRows on this model: delta-slices.ts), then every tower variable
 * assigned the delta's values (the old tensors are freed by assign; no tensor is left over), and
 * `onnx` (deltaOnnxTower, when the model is served by onnxruntime) swapped in for the old
 * serving tower, which is released when its running calls end. Row indices held across the call
 * are stale (EmbeddingTable.remove moves rows).
 */
export function applyDeltaInPlace(
  model: CtrModel,
  d: ParsedDelta,
  onnx?: ServingTower,
  prep?: PreparedRows,
): DeltaCounts {
  const counts = prep ? applyPrepared(model, d, prep) : applyRows(model, d);
  tf.tidy(() => {
    model.tower.vars.forEach((v, i) => {
      v.assign(tf.tensor(d.dense[i], v.shape));
    });
  });
  if (onnx) {
    const old = model.servingTower;
    model.servingTower = onnx;
    old?.dispose();
  }
  return counts;
}

/**
 * A new model with `d` applied: copies of `model`'s tables (EmbeddingTable.clone) and a tower
 * built from the delta's dense weights; `model` is not touched. Its serving tower is the caller's
 * (equipCopy). Memory: one more copy of the tables until the old model is freed.
 */
export function copyWithDelta(model: CtrModel, d: ParsedDelta): { model: CtrModel; counts: DeltaCounts } {
  const copy = new CtrModel(model.schema, model.config, { towerValues: d.dense, trainable: false });
  copy.rules = model.rules;
  model.tables.forEach((t, f) => {
    copy.tables[f] = t.clone();
  });
  return { model: copy, counts: applyRows(copy, d) };
}

/**
 * The served entry of `served` after `d`: the delta's version, and the manifest fields a delta
 * carries (step, examples, created_at, source offsets, watermark, metrics) over the base's;
 * `model` is the model it was applied to (the same one, or a copy).
 */
export function servedAfterDelta(served: ServedModel, d: ParsedDelta, model: CtrModel): ServedModel {
  const m = d.manifest;
  return {
    ...served,
    version: m.version,
    model,
    loadedAt: new Date(),
    deltaSeq: m.seq,
    manifest: {
      ...served.manifest,
      version: m.version,
      step: m.step,
      examples: m.examples,
      created_at: m.created_at,
      source_offsets: m.source_offsets,
      event_time_watermark_ms: m.event_time_watermark_ms,
      metrics: m.metrics,
    },
  };
}

/** What applyWhenIdle did. */
export interface DeltaApplied {
  /** The served entry of the delta's version, in the set now. */
  next: ServedModel;
  counts: DeltaCounts;
  /** False when applied to a copy. */
  inPlace: boolean;
  /** Seconds applying (the synchronous part), and waiting for chunked requests before it. */
  timing: { applySeconds: number; deferredSeconds: number; inPlace: boolean };
}

/**
 * Applies `d` to the version `current()` names in `set` and puts the result in the set under
 * the delta's version: first its rows are located in that model, `sliceRows` a turn
 * (prepareRows; 0: not beforehand, all in the applying turn), then in place (VersionSet.replace;
 * same model, nothing freed) as soon as no chunked request is scoring with that model, waiting
 * at most `deferMs` (checked every 1 ms); after that, or at once for a `pinned` version (a label
 * names it: never changed in place), on a copy (VersionSet.add; the old version stays until the
 * caller's policy retires it and its last request ends). Check and in-place apply are one
 * synchronous stretch. `onWait` is called once when the delta starts waiting, with the number of
 * chunked requests it waits for.
 * @param current the version to apply to, re-read after every wait; undefined (the registry
 *   stopped, or a new full export is served) drops the delta.
 * @returns what was done, or null when dropped.
 * @throws LionctrError LIONCTR_UNAVAILABLE when onnxruntime refuses the delta's tower.
 */
export async function applyWhenQuiet(
  set: VersionSet<ServedModel>,
  current: () => string | undefined,
  pinned: ReadonlySet<string>,
  d: ParsedDelta,
  deferMs: number,
  onWait: (chunked: number) => void = () => {},
  sliceRows = 16384,
): Promise<DeltaApplied | null> {
  const first = set.peek(current() ?? '');
  if (!first) return null;
  // onnxruntime builds the session off the event loop while the rows are located
  const [onnx, prep] = await Promise.all([
    deltaOnnxTower(first.model, d.dense),
    sliceRows > 0 ? prepareRows(first.model, d, sliceRows) : undefined,
  ]);
  const t0 = performance.now(),
    deadline = t0 + deferMs;
  let waits = 0;
  for (;;) {
    const from = current();
    const served = from === undefined ? undefined : set.peek(from);
    if (from === undefined || !served || served.model !== first.model) {
      onnx?.dispose();
      return null;
    }
    const quiet = chunkedInFlight(served.model) === 0 && !pinned.has(from);
    if (quiet) {
      const t1 = performance.now();
      const counts = applyDeltaInPlace(served.model, d, onnx, prep);
      const next = servedAfterDelta(served, d, served.model);
      set.replace(from, next.version, next);
      return done(next, counts, true, t0, t1);
    }
    if (performance.now() >= deadline || pinned.has(from)) {
      const t1 = performance.now();
      const copy = copyWithDelta(served.model, d);
      await equipCopy(served.model, copy.model, onnx);
      if (current() !== from) {
        copy.model.dispose();
        return null;
      }
      const next = servedAfterDelta(served, d, copy.model);
      set.add(next.version, next);
      return done(next, copy.counts, false, t0, t1);
    }
    if (waits++ === 0) onWait(chunkedInFlight(served.model));
    await new Promise((r) => setTimeout(r, 1));
  }
}

function done(next: ServedModel, counts: DeltaCounts, inPlace: boolean, t0: number, t1: number): DeltaApplied {
  const timing = { applySeconds: (performance.now() - t1) / 1000, deferredSeconds: (t1 - t0) / 1000, inPlace };
  return { next, counts, inPlace, timing };
}
