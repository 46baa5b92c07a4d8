/**
 * An export is readable without lionctr: test/helpers/manifest-reference.ts, which imports
 * nothing of src/, scores instances in float64 from the manifest's `featurization` and the
 * export files alone, and must match CtrModel.predict within 1e-5. Every edge instance's
 * values are admitted as rows first (except one line kept unseen), so a token the description
 * states wrongly lands on a different id, finds no row and changes the prediction. Per-slot
 * dims (a layout with uneven column blocks) and the FM term are both covered. Also: the ONNX
 * file is listed in manifest.files with its sha256 and takes the stated tower input.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Featurizer } from '../../../src/features/featurizer.ts';
import type { FeatureSchema } from '../../../src/features/schema.ts';
import { selectBackend } from '../../../src/model/backend.ts';
import { CtrModel } from '../../../src/model/ctr-model.ts';
import { writeExport } from '../../../src/train/export-writer.ts';
import { edgeInstanceLines } from '../../helpers/edge-instances.ts';
import { loadReference, referencePredict } from '../../helpers/manifest-reference.ts';

const meta = { step: 1, examples: 1, sourceOffsets: {}, watermarkMs: null, metrics: {} };
const UNSEEN_LINE = 4;

/** A model whose rows hold every edge instance's ids (but UNSEEN_LINE's) with random values. */
function buildModel(schema: FeatureSchema, fm: boolean): { model: CtrModel; instances: Record<string, unknown>[] } {
  const model = new CtrModel(schema, { hidden: fm ? [5] : [6, 4], initStd: 0.3, seed: 5, fm });
  const fz = new Featurizer(schema);
  const instances = edgeInstanceLines(schema).map((l) => JSON.parse(l) as Record<string, unknown>);
  model.gather(fz.fromInstances(instances.filter((_, i) => i !== UNSEEN_LINE)), true);
  let s = 12345;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296 - 0.5;
  };
  for (const t of model.tables) for (let r = 0; r < t.size; r++) t.rows.data[t.rows.weightsAt(r)] = rand();
  model.tower.vars.forEach((v, i) => {
    if (v.shape.length === 1) tf.tidy(() => v.assign(tf.randomUniform(v.shape, -0.5, 0.5, 'float32', 40 + i)));
  });
  return { model, instances };
}

describe('export manifest featurization', () => {
  let root: string;
  beforeAll(async () => {
    await selectBackend('auto');
    root = await mkdtemp(join(tmpdir(), 'lionctr-featurization-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const cases: [string, FeatureSchema, boolean][] = [
    [
      'per-slot dims',
      { numeric: ['I1', 'I2', 'I3', 'I4'], categorical: ['C1', 'C2', 'C3'], embeddingDim: 3, dims: { C2: 5, I3: 2 } },
      false,
    ],
    ['FM term', { numeric: ['I1', 'I2', 'I3', 'I4'], categorical: ['C1', 'C2', 'C3'], embeddingDim: 3 }, true],
  ];
  for (const [name, schema, fm] of cases) {
    it(`a float64 reader of the manifest alone matches CtrModel.predict within 1e-5 (${name})`, async () => {
      const { model, instances } = buildModel(schema, fm);
      const { dir } = await writeExport(join(root, name.replace(/\W/g, '')), model, meta);
      const want = model.predict(new Featurizer(schema).fromInstances(instances));
      const got = referencePredict(await loadReference(dir), instances);
      expect(got).toHaveLength(instances.length);
      const diffs = got.map((p, i) => Math.abs(p - want[i]));
      expect(Math.max(...diffs)).toBeLessThan(1e-5);
      // the predictions differ between instances: the rows and the tower matter
      expect(new Set(got.map((p) => p.toFixed(4))).size).toBeGreaterThan(instances.length / 2);
      model.dispose();
    });
  }

  it('lists dense/model.onnx with its sha256; it takes the stated tower input and gives one logit each', async () => {
    const schema = cases[0][1];
    const { model } = buildModel(schema, false);
    const { dir } = await writeExport(join(root, 'onnx'), model, meta);
    model.dispose();
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    const fz = manifest.featurization;
    const bytes = await readFile(join(dir, fz.tower.onnx));
    expect(manifest.files[fz.tower.onnx]).toBe(createHash('sha256').update(bytes).digest('hex'));
    const session = await ort.InferenceSession.create(bytes);
    const x = new Float32Array(3 * fz.tower_input.width);
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [3, fz.tower_input.width]) });
    expect(out[session.outputNames[0]].dims).toEqual([3]);
    await session.release();
  });
});
