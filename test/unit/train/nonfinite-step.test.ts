/**
 * A training step whose loss or gradients are NaN or infinite is skipped (issue 11): no
 * weight, momentum, row or step-counter change, bit for bit; the step says what was not
 * finite; the next good batch is trained as usual.
 */
import { describe, expect, it } from 'vitest';
import type { FeatureBatch } from '../../../src/features/feature-batch.ts';
import { createSyntheticSource } from '../../../src/ingest/synthetic-source.ts';
import { captureState } from '../../../src/train/train-state.ts';
import { stateDigest } from '../../helpers/state-digest.ts';
import { tinyTrainedModel } from '../../helpers/tiny-model.ts';

/** A copy of `b` whose example `e` has the numeric input `value` (a NaN reaches its logit). */
function withNumeric(b: FeatureBatch, e: number, value: number): FeatureBatch {
  const dense = b.dense.slice();
  dense[e * (b.dense.length / b.size)] = value;
  return { ...b, dense };
}

describe('a non-finite training step', () => {
  it('changes nothing (weights, momentum, rows, step), says what is not finite; a good batch trains', async () => {
    const t = await tinyTrainedModel(3, 256);
    const batches: FeatureBatch[] = [];
    for await (const rb of createSyntheticSource({ seed: 5, limit: 512 }).batches({ batchSize: 256 }))
      batches.push(t.featurizer.fromRecordBatch(rb));
    t.step.run(batches[0]); // its ids are admitted: the bad copy below admits no new row
    const before = await captureState(t.step);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const r = t.step.run(withNumeric(batches[0], 7, bad));
      // NaN reaches the loss; +Infinity may not (relu can zero it) but reaches the gradients
      expect(r.nonFinite).toMatch(/non-finite gradients: .*tower\d+\/kernel_0 \d+ of 2704/);
      if (Number.isNaN(bad)) {
        expect(r.nonFinite).toMatch(/^loss NaN; /);
        expect(Number.isNaN(r.predictions[7])).toBe(true); // the progressive prediction is still returned
      }
      expect(r.predictions.length).toBe(256);
      const after = await captureState(t.step);
      expect(after.step).toBe(before.step);
      expect(after.denseLionStep).toBe(before.denseLionStep);
      expect(stateDigest(after)).toBe(stateDigest(before));
    }
    const good = t.step.run(batches[1]);
    expect(good.nonFinite).toBeNull();
    expect(Number.isFinite(good.loss)).toBe(true);
    expect(t.step.step).toBe(before.step + 1);
    expect(stateDigest(await captureState(t.step))).not.toBe(stateDigest(before));
    t.model.dispose();
  });
});
