/**
 * Sample weights (schema.weight) in a training step: the loss is the weighted mean logloss and
 * the gradient the weighted mean of the per-example gradients, re-derived in float64 from the
 * model's own inputs (a tower with no hidden layer, so the gradient of its weights is
 * sum_b w_b (p_b - y_b) x_b / sum_b w_b); Lion's first step moves each weight by -lr * sign(g).
 */
import { describe, expect, it } from 'vitest';
import { Featurizer } from '../../../src/features/featurizer.ts';
import type { FeatureSchema } from '../../../src/features/schema.ts';
import { rowsToRecordBatch } from '../../../src/ingest/arrow/record-batch-builder.ts';
import type { DecodedRow } from '../../../src/ingest/source.ts';
import { selectBackend } from '../../../src/model/backend.ts';
import { CtrModel } from '../../../src/model/ctr-model.ts';
import { TrainStep } from '../../../src/train/train-step.ts';
import { mulberry32 } from '../../helpers/prng.ts';

const schema: FeatureSchema = { numeric: ['n1', 'n2'], categorical: ['c1', 'c2'], embeddingDim: 3 };
const LR = 1e-3;

/** 24 rows with seeded values, labels and weights (some 0, one large). */
function rows(): DecodedRow[] {
  const rnd = mulberry32(7);
  return Array.from({ length: 24 }, (_, i) => ({
    label: (rnd() < 0.4 ? 1 : 0) as 0 | 1,
    eventTimeMs: null,
    numeric: [Math.floor(rnd() * 20), rnd() < 0.2 ? null : rnd() * 3],
    categorical: [`a${Math.floor(rnd() * 4)}`, `b${Math.floor(rnd() * 6)}`],
    weight: i % 7 === 3 ? 0 : i === 5 ? 9.5 : Math.round(rnd() * 40) / 10,
  }));
}

function freshStep(): TrainStep {
  const model = new CtrModel(schema, { hidden: [], initStd: 0.05, seed: 3 });
  const lp = { lr: LR, beta1: 0.9, beta2: 0.99, weightDecay: 0 };
  return new TrainStep(model, { dense: lp, embedding: lp, linear: lp, bias: lp, clipGlobalNorm: 0 });
}

describe('sample weights in the train step', () => {
  it('the batch reads the weight column; loss and tower gradient match a float64 re-derivation', async () => {
    await selectBackend('wasm');
    const rs = rows();
    const rb = rowsToRecordBatch(schema, rs, { offsets: rs.map((_, i) => i + 1) });
    const batch = new Featurizer(schema).fromRecordBatch(rb);
    expect(Array.from(batch.weights)).toEqual(rs.map((r) => Math.fround(r.weight ?? 1)));

    const step = freshStep();
    const m = step.model;
    // the first step sets the bias to the weighted CTR's logit before its forward pass: do it here too
    const sumW = rs.reduce((s, r) => s + (r.weight ?? 1), 0);
    const ctr = rs.reduce((s, r) => s + (r.weight ?? 1) * r.label, 0) / sumW;
    const W = m.tower.vars[0];
    const x = m.gather(batch, true).x; // [B, I] float32 (admits the ids as the step will)
    const wide = m.gather(batch, false).wide;
    const w0 = Float64Array.from(W.dataSync());
    const b0 = Math.log(ctr / (1 - ctr));
    const B = rs.length,
      I = m.inputDim;
    let loss = 0;
    const g = new Float64Array(I);
    for (let b = 0; b < B; b++) {
      let z = b0 + wide[b];
      for (let i = 0; i < I; i++) z += x[b * I + i] * w0[i];
      const y = rs[b].label,
        w = rs[b].weight ?? 1;
      loss += (w * (Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z))))) / sumW;
      const p = 1 / (1 + Math.exp(-z));
      for (let i = 0; i < I; i++) g[i] += (w * (p - y) * x[b * I + i]) / sumW;
    }
    const r = step.run(batch);
    expect(r.nonFinite).toBeNull();
    expect(Math.abs(r.loss - loss) / loss, `loss ${r.loss} vs float64 ${loss}`).toBeLessThan(1e-5);
    // Lion's first step: w1 = w0 - lr * sign(g) (momentum 0, no decay, no clipping)
    const w1 = W.dataSync();
    let checked = 0;
    for (let i = 0; i < I; i++) {
      if (Math.abs(g[i]) < 1e-6) continue;
      expect((w1[i] - w0[i]) / LR, `weight ${i}: g ${g[i]}`).toBeCloseTo(-Math.sign(g[i]), 3);
      checked++;
    }
    expect(checked).toBeGreaterThan(I / 2);
  });

  it('an integer weight k trains as k copies of the example, a weight 0 as no example', async () => {
    await selectBackend('wasm');
    const rs = rows().map((r) => ({ ...r, weight: Math.round(r.weight ?? 1) }));
    const copies = rs.flatMap((r) => Array.from({ length: r.weight }, () => ({ ...r, weight: undefined })));
    const fz = new Featurizer(schema);
    const a = freshStep(),
      b = freshStep();
    const wa = fz.fromRecordBatch(rowsToRecordBatch(schema, rs, { offsets: rs.map((_, i) => i) }));
    const wb = fz.fromRecordBatch(rowsToRecordBatch(schema, copies, { offsets: copies.map((_, i) => i) }));
    const la = a.run(wa).loss,
      lb = b.run(wb).loss;
    expect(Math.abs(la - lb) / lb).toBeLessThan(1e-5);
    const d = (s: TrainStep) => Float64Array.from(s.model.tower.vars[0].dataSync());
    const [da, db] = [d(a), d(b)];
    let same = 0;
    for (let i = 0; i < da.length; i++) if (Math.abs(da[i] - db[i]) < 1e-7) same++;
    expect(same).toBe(da.length);
  });
});
