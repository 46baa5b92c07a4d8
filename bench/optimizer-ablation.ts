/**
 * Optimizer ablation (issue "Lion, exactly"): sparse mode lazy / decayed / exact, float32
 * vs bfloat16 momentum, and Lion vs AdamW (same model, groups, schedule and lazy rows),
 * on the Criteo sample (train rows 1-8000, 2 passes, holdout rows 8001-9999) and on the
 * synthetic stream (progressive figures over the last 100k of N examples, holdout on the
 * next 100k examples, scored without training).
 *
 *   npx tsx bench/optimizer-ablation.ts [--examples 2000000] [--only criteo|synthetic]
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { featureSchemaOf } from '../src/cli/common.ts';
import { modelOf, optimConfigOf } from '../src/cli/model-setup.ts';
import { loadConfig, type LionctrConfig } from '../src/config/schema.ts';
import type { FeatureBatch } from '../src/features/feature-batch.ts';
import { Featurizer } from '../src/features/featurizer.ts';
import { createFileSource } from '../src/ingest/file-source.ts';
import { createSyntheticSource } from '../src/ingest/synthetic-source.ts';
import { selectBackend } from '../src/model/backend.ts';
import type { CtrModel } from '../src/model/ctr-model.ts';
import { evalFigures } from '../src/train/evaluation/binary-metrics.ts';
import { ProgressiveMetrics } from '../src/train/evaluation/progressive.ts';
import { TrainStep } from '../src/train/train-step.ts';

const { values } = parseArgs({
  options: {
    examples: { type: 'string', default: '2000000' },
    only: { type: 'string' },
    'adamw-factors': { type: 'string', default: '3' },
    'adamw-only': { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(
    'usage: npx tsx bench/optimizer-ablation.ts [--examples 2000000] [--only criteo|synthetic] ' +
      '[--adamw-factors 1,3,10] [--adamw-only]',
  );
  process.exit(0);
}
/**
 * AdamW lr = Lion lr x f and wd = Lion wd / f for each f (the paper's mapping read backwards,
 * sec. 5): a sweep over f.
 */
const adamFactors = values['adamw-factors']!.split(',').map(Number);
await selectBackend('auto');

/**
 * Variants: extra `--set`s on top of the dataset's config. AdamW takes lr x3 and wd / 3 of
 * Lion's (the paper's advice read backwards, sec. 5).
 */
const variants: [string, string[]][] = [
  ['lion lazy f32', []],
  ['lion decayed f32', ['optim.sparseMode="decayed"']],
  ['lion exact f32', ['optim.sparseMode="exact"']],
  ['lion lazy bf16', ['model.momentumDtype="bfloat16"']],
];
const adamSets = (c: LionctrConfig, f: number) => [
  ...(['dense', 'embedding', 'linear', 'bias'] as const).flatMap((g) => [
    `optim.${g}.lr=${c.optim[g].lr * f}`,
    `optim.${g}.weightDecay=${c.optim[g].weightDecay / f}`,
    `optim.${g}.beta2=0.999`,
  ]),
];
const withAdam = (base: LionctrConfig): [string, string[]][] => [
  ...(values['adamw-only'] ? [] : variants),
  ...adamFactors.map((f) => [`adamw lazy x${f}`, adamSets(base, f)] as [string, string[]]),
];

function build(cfg: LionctrConfig, adam: boolean) {
  const schema = featureSchemaOf(cfg);
  const model = modelOf(cfg, schema);
  const step = new TrainStep(model, { ...optimConfigOf(cfg, model.slots), adam });
  return { model, step, fz: new Featurizer(schema) };
}
const score = (model: CtrModel, batches: FeatureBatch[]) => {
  const p: number[] = [],
    y: number[] = [];
  for (const b of batches) {
    const q = model.predict(b);
    for (let i = 0; i < b.size; i++) {
      p.push(q[i]);
      y.push(b.labels[i]);
    }
  }
  return evalFigures(p, y);
};
const row = (
  name: string,
  prog: { auc: number; logloss: number },
  hold: { auc: number; logloss: number },
  extra = '',
) =>
  console.log(
    `${name.padEnd(18)} ${prog.auc.toFixed(4)}  ${prog.logloss.toFixed(4)}   ` +
      `${hold.auc.toFixed(4)}  ${hold.logloss.toFixed(4)}  ${extra}`,
  );

const criteo = resolve(process.cwd(), '../shared/data/criteo-10k/criteo_10k.tsv');
if (values.only !== 'synthetic') {
  if (!existsSync(criteo)) console.log(`SKIPPED criteo: ${criteo} absent`);
  else {
    console.log('\nCriteo sample (config/criteo.json): train rows 1-8000 x2 passes, holdout rows 8001-9999');
    console.log('variant            prog AUC  prog LL   hold AUC  hold LL');
    const base = loadConfig(['config/criteo.json']);
    for (const [name, sets] of withAdam(base)) {
      const cfg = loadConfig(['config/criteo.json'], sets);
      const { model, step, fz } = build(cfg, name.startsWith('adam'));
      const load = async (skip: number, limit: number | undefined, bs: number) => {
        const out: FeatureBatch[] = [];
        for await (const rb of createFileSource({
          path: criteo,
          format: 'criteo',
          schema: featureSchemaOf(cfg),
          skip,
          limit,
        }).batches({ batchSize: bs }))
          out.push(fz.fromRecordBatch(rb));
        return out;
      };
      const train = await load(0, 8000, cfg.train.batchSize),
        hold = await load(8000, undefined, 4096);
      const pm = new ProgressiveMetrics(16_000);
      for (let e = 0; e < 2; e++)
        for (const b of train) {
          const r = step.run(b);
          pm.add(r.predictions, b.labels, undefined, b.size);
        }
      row(name, pm.figures(), score(model, hold));
      model.dispose();
    }
  }
}
if (values.only !== 'criteo') {
  const N = Number(values.examples);
  console.log(
    `\nSynthetic stream (config/default.json), seed 1: progressive over the last 100k of ${N}, holdout = the next 100k`,
  );
  console.log('variant            prog AUC  prog LL   hold AUC  hold LL  gain(prog)  ex/s');
  const base = loadConfig();
  const holdBatches: FeatureBatch[] = [];
  const fz0 = new Featurizer(featureSchemaOf(base));
  for await (const rb of createSyntheticSource({ seed: 1, startOffset: N, limit: 100_000 }).batches({
    batchSize: 4096,
  }))
    holdBatches.push(fz0.fromRecordBatch(rb));
  for (const [name, sets] of withAdam(base)) {
    const cfg = loadConfig([], sets);
    const { model, step, fz } = build(cfg, name.startsWith('adam'));
    const pm = new ProgressiveMetrics(100_000);
    const t0 = performance.now();
    for await (const rb of createSyntheticSource({ seed: 1, limit: N }).batches({ batchSize: cfg.train.batchSize })) {
      const b = fz.fromRecordBatch(rb);
      const r = step.run(b);
      pm.add(r.predictions, b.labels, b.bayesP, b.size);
    }
    const f = pm.figures();
    const baseLL = f.logloss / f.ne;
    row(
      name,
      f,
      score(model, holdBatches),
      `${((baseLL - f.logloss) / (baseLL - f.bayesLogloss!)).toFixed(3)}       ` +
        `${(N / ((performance.now() - t0) / 1000)).toFixed(0)}`,
    );
    model.dispose();
  }
}
