/**
 * The serving tower (src/model/serving-tower.ts): onnxruntime and tfjs give the same click
 * probabilities within 1e-5 through CtrModel.score (known and unknown ids, with and without the
 * FM term), `serve.tower` picks the runtime, and every ONNX session is released with its model:
 * no session is left over many load/dispose cycles.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Featurizer } from '../../../src/features/featurizer.ts';
import { selectBackend } from '../../../src/model/backend.ts';
import { CtrModel } from '../../../src/model/ctr-model.ts';
import { loadExport } from '../../../src/model/export-reader.ts';
import { createServingTower, liveOnnxSessions } from '../../../src/model/serving-tower.ts';
import { writeExport } from '../../../src/train/export-writer.ts';
import { sampleInstances } from '../../helpers/tiny-model.ts';

const schema = { numeric: ['I1', 'I2'], categorical: ['C1', 'C2', 'C3'], embeddingDim: 4 };
const meta = { step: 1, examples: 0, sourceOffsets: {}, watermarkMs: null, metrics: {} };

/** A model with rows for half the values sampleInstances uses (the others read as unknown). */
function modelWithRows(fm: boolean): CtrModel {
  const model = new CtrModel(schema, { hidden: [16, 8], initStd: 0.3, seed: 5, fm });
  model.gather(new Featurizer(schema).fromInstances(sampleInstances(40, schema).slice(0, 20)), true);
  // non-zero linear weights, so a dropped wide part shows
  for (const t of model.tables) for (let r = 0; r < t.size; r++) t.rows.data[r * t.rows.stride] = 0.05 * (r % 7) - 0.1;
  return model;
}

describe('serving tower', () => {
  let dir: string;
  beforeAll(async () => {
    await selectBackend('auto');
    dir = await mkdtemp(join(tmpdir(), 'lionctr-serving-tower-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const fm of [false, true])
    it(`onnxruntime and tfjs give the same probabilities within 1e-5 (fm=${fm})`, async () => {
      const model = modelWithRows(fm);
      const batch = new Featurizer(schema).fromInstances([...sampleInstances(40, schema), {}]);
      const want = model.predict(batch); // tfjs: tower, wide, FM and sigmoid as tensors
      model.servingTower = await createServingTower(model.tower, { kind: 'onnx', threads: 1 });
      expect(model.servingTower.kind).toBe('onnx');
      const got = await model.score(batch);
      let maxDiff = 0;
      for (let i = 0; i < batch.size; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
      expect(maxDiff).toBeLessThan(1e-5);
      expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(0.05); // the scores vary
      model.dispose();
    });

  it('serve.tower picks the runtime an export is served with; tfjs scores as predict() does', async () => {
    const model = modelWithRows(false);
    const { version } = await writeExport(dir, model, meta);
    const batch = new Featurizer(schema).fromInstances(sampleInstances(8, schema));
    const tfjs = await loadExport(join(dir, version), { kind: 'tfjs', threads: 1 });
    const onnx = await loadExport(join(dir, version), { kind: 'onnx', threads: 1 });
    const auto = await loadExport(join(dir, version), { kind: 'auto', threads: 1 });
    expect([tfjs, onnx, auto].map((l) => l.model.servingTower?.kind)).toEqual(['tfjs', 'onnx', 'onnx']);
    expect(await tfjs.model.score(batch)).toEqual(model.predict(batch));
    const a = await onnx.model.score(batch),
      b = model.predict(batch);
    for (let i = 0; i < batch.size; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5);
    for (const l of [tfjs, onnx, auto, { model }]) l.model.dispose();
  });

  it('each load holds one ONNX session, released by dispose: none left after 60 load/dispose cycles', async () => {
    const model = modelWithRows(false);
    const { version } = await writeExport(dir, model, meta);
    model.dispose();
    const before = liveOnnxSessions();
    const loaded = await loadExport(join(dir, version), { kind: 'onnx', threads: 1 });
    expect(liveOnnxSessions()).toBe(before + 1);
    loaded.model.dispose();
    loaded.model.dispose(); // idempotent
    expect(liveOnnxSessions()).toBe(before);
    for (let i = 0; i < 60; i++) (await loadExport(join(dir, version), { kind: 'onnx', threads: 1 })).model.dispose();
    expect(liveOnnxSessions()).toBe(before);
  });

  it('a released tower refuses to score (a use after free is an error, not a crash)', async () => {
    const model = modelWithRows(false);
    const tower = await createServingTower(model.tower, { kind: 'onnx', threads: 1 });
    tower.dispose();
    await expect(tower.logits(new Float32Array(model.inputDim), 1)).rejects.toThrow(/used after it was released/);
    model.dispose();
  });
});
