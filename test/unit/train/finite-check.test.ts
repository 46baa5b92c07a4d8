/**
 * finite-check.ts against a direct count: which parts of a model hold NaN or infinite
 * weights (optimizer momentum is not a weight), and whether a model blown up by a huge
 * update still gives finite logits on a batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createSyntheticSource } from '../../../src/ingest/synthetic-source.ts';
import { logitsFinite, nonFiniteWeights } from '../../../src/train/finite-check.ts';
import { tinyTrainedModel } from '../../helpers/tiny-model.ts';

describe('finite checks of a model', () => {
  it('nonFiniteWeights names each part and counts its NaN and infinite weights, not momentum', async () => {
    const t = await tinyTrainedModel(2, 256);
    expect(nonFiniteWeights(t.model)).toEqual([]);
    const rows = t.model.tables[0].rows;
    rows.data[rows.momentumAt(1)] = Number.NaN; // momentum: not a weight
    expect(nonFiniteWeights(t.model)).toEqual([]);
    const b = t.model.tower.vars[1];
    tf.tidy(() => b.assign(tf.fill(b.shape, Number.POSITIVE_INFINITY)));
    rows.data[rows.weightsAt(0)] = Number.NaN;
    rows.data[rows.weightsAt(1) + 2] = Number.NaN;
    rows.data[rows.weightsAt(1) + 3] = -3e38; // finite
    const t0 = t.model.tables[0];
    expect(nonFiniteWeights(t.model)).toEqual([
      { where: `dense ${b.name}`, count: b.size, of: b.size },
      { where: `embeddings ${t0.slot}`, count: 2, of: t0.size * t0.width },
    ]);
    t.model.dispose();
  });

  it('logitsFinite: true for a trained model, false once weights of 3e38 overflow the products', async () => {
    const t = await tinyTrainedModel(2, 256);
    let batch = null;
    for await (const rb of createSyntheticSource({ seed: 1, limit: 256 }).batches({ batchSize: 256 }))
      batch = t.featurizer.fromRecordBatch(rb);
    expect(logitsFinite(t.model, batch!)).toBe(true);
    for (const tb of t.model.tables)
      for (let r = 0; r < tb.size; r++)
        for (let j = 0; j < tb.width; j++) tb.rows.data[tb.rows.weightsAt(r) + j] = 3e38;
    const k = t.model.tower.vars[0];
    tf.tidy(() => k.assign(tf.fill(k.shape, 3e38)));
    expect(nonFiniteWeights(t.model)).toEqual([]); // every weight is still finite
    expect(logitsFinite(t.model, batch!)).toBe(false);
    t.model.dispose();
  });
});
