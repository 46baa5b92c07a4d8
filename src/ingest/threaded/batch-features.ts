/**
 * The features the ingest thread computed for a RecordBatch, found by the batch: the
 * training thread featurizes a batch only when no features came with it (a source on the
 * training thread). Entries live as long as their batch (a WeakMap): nothing to free.
 * @module
 */
import type { RecordBatch } from 'apache-arrow';
import type { FeatureBatch } from '../../features/feature-batch.ts';
import type { Featurizer } from '../../features/featurizer.ts';

const made = new WeakMap<RecordBatch, FeatureBatch>();

/** Records that `features` are the features of `rb` (by the same featurization as the trainer's). */
export function attachFeatures(rb: RecordBatch, features: FeatureBatch): void {
  made.set(rb, features);
}

/**
 * The FeatureBatch of `rb`: the one attached on arrival, else `featurizer.fromRecordBatch(rb)`.
 * @throws LionctrError LIONCTR_BAD_INPUT when rb lacks a slot column (Featurizer.fromRecordBatch).
 */
export function featuresOf(featurizer: Featurizer, rb: RecordBatch): FeatureBatch {
  return made.get(rb) ?? featurizer.fromRecordBatch(rb);
}
