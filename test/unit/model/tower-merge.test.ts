/**
 * The ONNX serving tower merges the logits() calls of one turn of the event loop into one
 * onnxruntime run (src/model/serving-tower.ts): concurrent requests get the scores they get
 * alone (within 1e-6), each its own rows, and a call over MAX_MERGED_ROWS rows is not merged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Featurizer } from '../../../src/features/featurizer.ts';
import { selectBackend } from '../../../src/model/backend.ts';
import { CtrModel } from '../../../src/model/ctr-model.ts';
import { createServingTower, MAX_MERGED_ROWS, mergedOnnxRuns } from '../../../src/model/serving-tower.ts';
import { sampleInstances } from '../../helpers/tiny-model.ts';

const schema = { numeric: ['I1', 'I2'], categorical: ['C1', 'C2', 'C3'], embeddingDim: 4 };

describe('merged ONNX runs', () => {
  let model: CtrModel;
  beforeAll(async () => {
    await selectBackend('auto');
    model = new CtrModel(schema, { hidden: [16, 8], initStd: 0.3, seed: 5 });
    model.gather(new Featurizer(schema).fromInstances(sampleInstances(40, schema).slice(0, 20)), true);
    model.servingTower = await createServingTower(model.tower, { kind: 'onnx', threads: 1 });
  });
  afterAll(() => model.dispose());

  it('concurrent calls are run together and each gets its own scores', async () => {
    const f = new Featurizer(schema);
    const all = sampleInstances(60, schema);
    // sizes 1, 3, 5, ... so a misplaced row shows
    const batches = [1, 3, 5, 7, 11, 13].map((n, i) => f.fromInstances(all.slice(i * 7, i * 7 + n)));
    const alone: Float32Array[] = [];
    const before = mergedOnnxRuns();
    for (const b of batches) alone.push(await model.score(b)); // one at a time: never merged
    expect(mergedOnnxRuns()).toBe(before);
    const together = await Promise.all(batches.map((b) => model.score(b)));
    expect(mergedOnnxRuns()).toBe(before + 1);
    together.forEach((p, i) => {
      expect(p.length).toBe(batches[i].size);
      for (let j = 0; j < p.length; j++) expect(Math.abs(p[j] - alone[i][j])).toBeLessThan(1e-6);
    });
    // the scores differ between rows, so a shifted row would fail above
    expect(new Set(together.flatMap((p) => [...p])).size).toBeGreaterThan(10);
  });

  it('a run holds at most MAX_MERGED_ROWS rows', async () => {
    const f = new Featurizer(schema);
    const big = f.fromInstances(sampleInstances(MAX_MERGED_ROWS, schema));
    const small = f.fromInstances(sampleInstances(3, schema));
    const before = mergedOnnxRuns();
    const [a, b] = await Promise.all([model.score(big), model.score(small)]);
    expect(mergedOnnxRuns()).toBe(before); // two runs of one call each
    expect(a.length).toBe(MAX_MERGED_ROWS);
    expect(b.length).toBe(3);
  });
});
