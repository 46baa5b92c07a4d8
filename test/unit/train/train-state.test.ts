import { beforeAll, describe, expect, it } from 'vitest';
import type { FeatureBatch } from '../../../src/features/feature-batch.ts';
import { Featurizer } from '../../../src/features/featurizer.ts';
import { criteoSlots } from '../../../src/features/schema.ts';
import { createSyntheticSource } from '../../../src/ingest/synthetic-source.ts';
import { selectBackend } from '../../../src/model/backend.ts';
import { CtrModel } from '../../../src/model/ctr-model.ts';
import type { SparseMode } from '../../../src/train/optim/sparse-lion.ts';
import { captureState, restoreState } from '../../../src/train/train-state.ts';
import { TrainStep } from '../../../src/train/train-step.ts';

// Save, restore into a fresh model, continue == an uninterrupted run, bit for bit.
describe('training state round trip', () => {
  const schema = { ...criteoSlots(), embeddingDim: 4 };
  const batches: FeatureBatch[] = [];
  beforeAll(async () => {
    await selectBackend('auto');
    const fz = new Featurizer(schema);
    for await (const rb of createSyntheticSource({ seed: 3, limit: 8 * 256 }).batches({ batchSize: 256 }))
      batches.push(fz.fromRecordBatch(rb));
  });
  const build = (mode: SparseMode, dtype: 'float32' | 'bfloat16') => {
    const model = new CtrModel(schema, { hidden: [8], initStd: 0.05, seed: 1, momentumDtype: dtype });
    const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0.5 });
    return new TrainStep(model, {
      dense: lp(1e-3),
      embedding: lp(1e-2),
      linear: lp(1e-2),
      sparseMode: mode,
      schedule: { kind: 'inverse-sqrt', timescaleSteps: 2, warmupSteps: 0, floor: 0.1 },
    });
  };

  for (const [mode, dtype] of [
    ['lazy', 'float32'],
    ['exact', 'float32'],
    ['decayed', 'bfloat16'],
  ] as const) {
    it(`${mode} mode, ${dtype} momentum: restore + continue equals the uninterrupted run`, async () => {
      const a = build(mode, dtype);
      for (const b of batches.slice(0, 4)) a.run(b);
      const saved = await captureState(a);
      for (const b of batches.slice(4)) a.run(b);
      const b2 = build(mode, dtype);
      restoreState(b2, saved);
      for (const b of batches.slice(4)) b2.run(b);
      const after = await captureState(a),
        other = await captureState(b2);
      expect(other.step).toBe(8);
      other.tower.forEach((v, i) => {
        expect(Buffer.from(v.buffer).equals(Buffer.from(after.tower[i].buffer)), `tower var ${i}`).toBe(true);
      });
      other.tables.forEach((t, f) => {
        const u = after.tables[f];
        expect(t.size).toBe(u.size);
        // row blocks: values, momentum, lastStep and update count, bit for bit
        expect(Buffer.from(t.blocks.buffer).equals(Buffer.from(u.blocks.buffer)), `${t.slot} rows`).toBe(true);
      });
      // the continuation really trained: weights moved after the snapshot
      const n0 = saved.tables[0].blocks.length;
      expect(
        Buffer.from(after.tables[0].blocks.buffer.slice(0, n0 * 4)).equals(Buffer.from(saved.tables[0].blocks.buffer)),
      ).toBe(false);
      a.model.dispose();
      b2.model.dispose();
      a.denseLion.dispose();
      b2.denseLion.dispose();
    });
  }

  it('a bfloat16 state of the old row layout (int32 update count after lastStep) restores and continues', async () => {
    const a = build('decayed', 'bfloat16');
    for (const b of batches.slice(0, 4)) a.run(b);
    const saved = await captureState(a),
      W = schema.embeddingDim + 1,
      m = Math.ceil(W / 2);
    // the same state as the old layout wrote it: W weights, m words of momenta (the spare half 0),
    // lastStep, the count as an int32
    const legacy = {
      ...saved,
      tables: saved.tables.map((t, f) => {
        const rows = a.model.tables[f].rows,
          S = t.stride,
          S0 = W + m + 2,
          out = new Uint32Array(t.size * S0),
          h = new Uint16Array(out.buffer),
          hin = new Uint16Array(t.blocks.buffer, t.blocks.byteOffset, t.blocks.length * 2);
        for (let r = 0; r < t.size; r++) {
          out.set(t.blocks.subarray(r * S, r * S + W + m), r * S0);
          h[2 * (r * S0 + W) + W] = 0;
          out[r * S0 + W + m] = t.blocks[r * S + rows.metaOff];
          out[r * S0 + W + m + 1] = hin[2 * r * S + rows.countHalf];
        }
        return { ...t, stride: S0, blocks: out };
      }),
    };
    expect(legacy.tables[0].stride).toBe(saved.tables[0].stride + 1);
    const b2 = build('decayed', 'bfloat16');
    restoreState(b2, legacy);
    for (const b of batches.slice(4)) {
      a.run(b);
      b2.run(b);
    }
    const after = await captureState(a),
      other = await captureState(b2);
    other.tables.forEach((t, f) => {
      expect(Buffer.from(t.blocks.buffer).equals(Buffer.from(after.tables[f].blocks.buffer)), t.slot).toBe(true);
    });
    for (const x of [a, b2]) {
      x.model.dispose();
      x.denseLion.dispose();
    }
  });
});
