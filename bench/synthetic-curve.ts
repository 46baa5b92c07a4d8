/**
 * Learning curve on the synthetic click stream with the configured model and optimizer
 * (config/default.json, plus --config/--set): progressive logloss of the last 100,000
 * examples and the share of the achievable gain it captures,
 *   gain = (LL_base-rate - LL_model) / (LL_base-rate - LL_bayes),
 * at 0.1M, 0.5M, 1M and 2M examples (the spine issue's figures; its reference: an online
 * AdaGrad logistic regression handed the planted pairs captures 0.69 at 1M, 0.78 at 2M).
 *
 *   npx tsx bench/synthetic-curve.ts [--examples 2000000] [--set key=value ...]
 */
import { parseArgs } from 'node:util';
import { featureSchemaOf } from '../src/cli/common.ts';
import { modelOf, optimConfigOf } from '../src/cli/model-setup.ts';
import { loadConfig } from '../src/config/schema.ts';
import { Featurizer } from '../src/features/featurizer.ts';
import { createSyntheticSource } from '../src/ingest/synthetic-source.ts';
import { selectBackend } from '../src/model/backend.ts';
import { ProgressiveMetrics } from '../src/train/evaluation/progressive.ts';
import { TrainStep } from '../src/train/train-step.ts';

const { values } = parseArgs({
  options: {
    examples: { type: 'string', default: '2000000' },
    set: { type: 'string', multiple: true, default: [] },
    config: { type: 'string', multiple: true, default: [] },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log('usage: npx tsx bench/synthetic-curve.ts [--examples 2000000] [--config F] [--set key=value ...]');
  process.exit(0);
}
const N = Number(values.examples);
const cfg = loadConfig(values.config, values.set);
const backend = await selectBackend(cfg.backend);
const schema = featureSchemaOf(cfg);
const model = modelOf(cfg, schema);
const step = new TrainStep(model, optimConfigOf(cfg, model.slots));
const fz = new Featurizer(schema);
const pm = new ProgressiveMetrics(100_000);
const marks = [100_000, 250_000, 500_000, 1_000_000, 1_500_000, 2_000_000, 3_000_000, 4_000_000]
  .filter((m) => m < N)
  .concat([N]);
console.log(
  `synthetic stream seed ${cfg.source.seed}, ${N} examples, batch ${cfg.train.batchSize}, backend ${backend.backend}`,
);
console.log('examples   logloss  bayes    base     gain   AUC     calib  ex/s');
let n = 0;
const t0 = performance.now();
for await (const rb of createSyntheticSource({ seed: cfg.source.seed, limit: N }).batches({
  batchSize: cfg.train.batchSize,
})) {
  const b = fz.fromRecordBatch(rb);
  const r = step.run(b);
  pm.add(r.predictions, b.labels, b.bayesP, b.size);
  const before = n;
  n += b.size;
  if (marks.some((m) => before < m && n >= m)) {
    const f = pm.figures();
    const base = f.logloss / f.ne;
    const gain = (base - f.logloss) / (base - f.bayesLogloss!);
    console.log(
      `${String(n).padEnd(10)} ${f.logloss.toFixed(4)}   ${f.bayesLogloss!.toFixed(4)}   ${base.toFixed(4)}   ` +
        `${gain.toFixed(3)}  ${f.auc.toFixed(4)}  ${f.calibration.toFixed(3)}  ` +
        `${(n / ((performance.now() - t0) / 1000)).toFixed(0)}`,
    );
  }
}
