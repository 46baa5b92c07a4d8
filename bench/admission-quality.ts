/**
 * Holdout AUC and embedding rows with feature admission (model.admission.minCount) and TTL
 * eviction (model.eviction.ttlSeconds) against both off, in the same run: on the Criteo sample
 * (config/criteo.json: the first 8,000 rows, 1 and 2 passes; holdout the last 1,999; it has no
 * event times, so no TTL) and on the synthetic stream (train on its first N examples, holdout
 * the next 50,000).
 *
 *   npx tsx bench/admission-quality.ts [--synthetic 200000] [--min-counts 2,4] [--ttl 300] [--no-criteo]
 *     [--set key=value ...]
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { featureSchemaOf } from '../src/cli/common.ts';
import { modelOf, optimConfigOf } from '../src/cli/model-setup.ts';
import { loadConfig } from '../src/config/schema.ts';
import type { FeatureBatch } from '../src/features/feature-batch.ts';
import { Featurizer } from '../src/features/featurizer.ts';
import { createFileSource } from '../src/ingest/file-source.ts';
import type { Source } from '../src/ingest/source.ts';
import { createSyntheticSource } from '../src/ingest/synthetic-source.ts';
import { selectBackend } from '../src/model/backend.ts';
import { auc } from '../src/train/evaluation/binary-metrics.ts';
import { TrainStep } from '../src/train/train-step.ts';

const { values } = parseArgs({
  options: {
    synthetic: { type: 'string', default: '200000' },
    'min-counts': { type: 'string', default: '2,4' },
    ttl: { type: 'string', default: '300' },
    'no-criteo': { type: 'boolean' },
    set: { type: 'string', multiple: true, default: [] },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log('usage: npx tsx bench/admission-quality.ts [--synthetic 200000] [--min-counts 2,4] [--set k=v ...]');
  process.exit(0);
}
const CRITEO = '../shared/data/criteo-10k/criteo_10k.tsv';
const minCounts = [1, ...values['min-counts'].split(',').map(Number)];
const ttl = Number(values.ttl);

/** Trains on `train` passes, scores `holdout`; returns holdout AUC, rows held and rows refused. */
async function run(config: string[], sets: string[], train: () => Source[], holdout: () => Source) {
  const cfg = loadConfig(config, [...values.set, ...sets]);
  await selectBackend(cfg.backend);
  const schema = featureSchemaOf(cfg);
  const model = modelOf(cfg, schema);
  const step = new TrainStep(model, optimConfigOf(cfg, model.slots));
  const fz = new Featurizer(schema);
  const batchSize = cfg.train.batchSize;
  for (const src of train())
    for await (const rb of src.batches({ batchSize })) step.run(fz.fromRecordBatch(rb) as FeatureBatch);
  const p: number[] = [],
    y: number[] = [];
  for await (const rb of holdout().batches({ batchSize })) {
    const b = fz.fromRecordBatch(rb);
    p.push(...model.predict(b));
    y.push(...b.labels);
  }
  const rows = model.tables.reduce((s, t) => s + t.size, 0);
  const rejected = model.gates.reduce((s, g) => s + g.rejected, 0);
  const evicted = model.eviction.evicted.reduce((s, n) => s + n, 0);
  const bytes = model.tableStats().reduce((s, t) => s + t.bytes, 0);
  model.dispose();
  step.denseLion.dispose();
  return { auc: auc(p, y), rows, rejected, evicted, bytes, holdout: y.length };
}

const line = (
  name: string,
  mc: number | string,
  r: Awaited<ReturnType<typeof run>>,
  base: Awaited<ReturnType<typeof run>>,
) =>
  console.log(
    `${name.padEnd(10)} minCount ${String(mc).padEnd(10)} AUC ${r.auc.toFixed(4)} (${
      (r.auc - base.auc >= 0 ? '+' : '') + (r.auc - base.auc).toFixed(4)
    })  rows ${String(r.rows).padStart(8)} (${((100 * r.rows) / base.rows).toFixed(1)}%)` +
      `  refused lookups ${r.rejected}  evicted ${r.evicted}  MB ${(r.bytes / 2 ** 20).toFixed(1)}` +
      `  holdout ${r.holdout}`,
  );

const os = await import('node:os');
console.log(
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
if (values['no-criteo']) console.log('Criteo sample skipped (--no-criteo)');
else if (existsSync(CRITEO)) {
  const criteo = (skip: number, limit?: number) =>
    createFileSource({ path: CRITEO, format: 'criteo', schema: criteoSchema, skip, limit });
  const criteoSchema = featureSchemaOf(loadConfig(['config/criteo.json']));
  // 2 passes (config/criteo.json): every id is seen twice, so minCount 2 admits all of them by the
  // end; 1 pass shows what the rows seen once cost
  for (const passes of [2, 1]) {
    let base: Awaited<ReturnType<typeof run>> | undefined;
    for (const mc of minCounts) {
      const r = await run(
        ['config/criteo.json'],
        [`model.admission.minCount=${mc}`],
        () => Array.from({ length: passes }, () => criteo(0, 8000)),
        () => criteo(8000),
      );
      base ??= r;
      line(`criteo x${passes}`, mc, r, base);
    }
  }
} else console.log(`no ${CRITEO}: Criteo sample skipped`);
const N = Number(values.synthetic);
let base: Awaited<ReturnType<typeof run>> | undefined;
// the synthetic stream's event times step 10 ms an example: N examples span N / 100 s
const variants: [string, string[]][] = minCounts.map((mc) => [String(mc), [`model.admission.minCount=${mc}`]]);
if (ttl > 0)
  for (const mc of [1, minCounts[1] ?? 2])
    variants.push([`${mc} ttl ${ttl}`, [`model.admission.minCount=${mc}`, `model.eviction.ttlSeconds=${ttl}`]]);
for (const [name, sets] of variants) {
  const r = await run(
    [],
    sets,
    () => [createSyntheticSource({ seed: 1, limit: N })],
    () => createSyntheticSource({ seed: 1, limit: 50_000, startOffset: N }),
  );
  base ??= r;
  line('synthetic', name, r, base);
}
console.log(
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
