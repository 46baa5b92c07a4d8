import { beforeAll, describe, expect, it } from 'vitest';
import { Featurizer } from '../../../src/features/featurizer.ts';
import { selectBackend } from '../../../src/model/backend.ts';
import { CtrModel } from '../../../src/model/ctr-model.ts';

// The model's forward pass against a float64 re-derivation from its own parameters:
// logit = sum of linear weights + MLP(x) (+ sum_{i<j} <e_i, e_j> with fm).
describe('CtrModel forward pass', () => {
  beforeAll(async () => {
    await selectBackend('auto');
  });
  const schema = { numeric: ['I1'], categorical: ['C1', 'C2', 'C3'], embeddingDim: 3 };

  for (const fm of [false, true]) {
    it(`matches a float64 re-derivation (fm=${fm})`, () => {
      const model = new CtrModel(schema, { hidden: [5], initStd: 0.5, seed: 3, fm });
      const fz = new Featurizer(schema);
      const batch = fz.fromInstances([
        { C1: 'a', C2: 'b', C3: 'c', I1: 4 },
        { C1: 'z', I1: 0 },
      ]);
      const g = model.gather(batch, true); // admit: rows get their deterministic init
      // non-zero linear weights
      for (const t of model.tables) for (let r = 0; r < t.size; r++) t.rows.data[r * t.rows.stride] = 0.1 * (r + 1);
      const p = model.predict(batch);
      const [W0, b0, W1, b1] = model.tower.vars.map((v) => Array.from(v.dataSync()));
      const I = model.inputDim,
        H = 5,
        F = 4,
        D = 3;
      for (let b = 0; b < batch.size; b++) {
        let logit = b1[0];
        const x: number[] = [];
        for (let f = 0; f < F; f++) {
          const t = model.tables[f],
            r = g.rowIdx[b * F + f];
          const row = t.rows.getWeights(r);
          logit += row[0];
          for (let j = 0; j < D; j++) x.push(row[1 + j]);
        }
        x.push(batch.dense[b]);
        for (let h = 0; h < H; h++) {
          let a = b0[h];
          for (let i = 0; i < I; i++) a += x[i] * W0[i * H + h];
          logit += Math.max(a, 0) * W1[h];
        }
        if (fm)
          for (let i = 0; i < F; i++)
            for (let j = i + 1; j < F; j++) for (let d = 0; d < D; d++) logit += x[i * D + d] * x[j * D + d];
        expect(p[b]).toBeCloseTo(1 / (1 + Math.exp(-logit)), 6);
      }
      model.dispose();
    });
  }

  it('fm refuses slots of different dims', () => {
    expect(
      () => new CtrModel({ ...schema, dims: { C1: 2 } }, { hidden: [4], initStd: 0.1, seed: 1, fm: true }),
    ).toThrow(/same embedding dim/);
  });
});
