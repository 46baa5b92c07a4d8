import { Featurizer } from '../../src/features/featurizer.ts';
import { criteoSlots, type FeatureSchema } from '../../src/features/schema.ts';
import { createSyntheticSource } from '../../src/ingest/synthetic-source.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { CtrModel } from '../../src/model/ctr-model.ts';
import { TrainStep } from '../../src/train/train-step.ts';

/** A small wide&deep model trained for `steps` steps of `batch` synthetic examples (seed 1). */
export async function tinyTrainedModel(
  steps = 5,
  batch = 512,
  seed = 1,
): Promise<{ model: CtrModel; step: TrainStep; schema: FeatureSchema; featurizer: Featurizer }> {
  await selectBackend('auto');
  const schema: FeatureSchema = { ...criteoSlots(), embeddingDim: 4 };
  const model = new CtrModel(schema, { hidden: [16, 8], initStd: 0.01, seed });
  const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
  const step = new TrainStep(model, { dense: lp(1e-3), embedding: lp(3e-3), linear: lp(3e-3) });
  const featurizer = new Featurizer(schema);
  for await (const rb of createSyntheticSource({ seed, limit: steps * batch }).batches({ batchSize: batch }))
    step.run(featurizer.fromRecordBatch(rb));
  return { model, step, schema, featurizer };
}

/** n serving instances with every slot set, values from a fixed pattern. */
export function sampleInstances(n: number, schema: FeatureSchema): Record<string, string | number>[] {
  return Array.from({ length: n }, (_, i) =>
    Object.fromEntries([
      ...schema.categorical.map((s, j) => [s, String(1 + ((i * 7 + j) % 5))] as const),
      ...schema.numeric.map((s, j) => [s, (i + j) % 9] as const),
    ]),
  );
}
