import { selectBackend } from '/work/main/src/model/backend.ts';
import { CtrModel } from '/work/main/src/model/ctr-model.ts';
import { TrainStep } from '/work/main/src/train/train-step.ts';
import { Featurizer } from '/work/main/src/features/featurizer.ts';
import { criteoSlots } from '/work/main/src/features/schema.ts';
import { createFileSource } from '/work/main/src/ingest/file-source.ts';
import { evalFigures } from '/work/main/src/train/metrics/binary-metrics.ts';
import pino from 'pino';
await selectBackend('auto');
const path = '/work/shared/data/criteo-10k/criteo_10k.tsv';
const schemaBase = criteoSlots();
async function load(skip: number, limit: number | undefined, fz: Featurizer, bs: number) {
  const out = [];
  for await (const rb of createFileSource({ path, format: 'criteo', schema: schemaBase, skip, limit }).batches({ batchSize: bs })) out.push(fz.fromRecordBatch(rb));
  return out;
}
const grid = JSON.parse(process.argv[2]);
for (const h of grid) {
  const schema = { ...schemaBase, embeddingDim: h.dim ?? 16 };
  const fz = new Featurizer(schema);
  const train = await load(0, 8000, fz, h.bs ?? 256);
  const test = await load(8000, undefined, fz, 4096);
  const model = new CtrModel(schema, { hidden: h.hidden ?? [256, 128], initStd: h.initStd ?? 0.01, seed: h.seed ?? 1 });
  const lp = (lr: number, wd: number, b2 = 0.99) => ({ lr, beta1: 0.9, beta2: b2, weightDecay: wd });
  const ts = new TrainStep(model, { dense: lp(h.dlr ?? 1e-4, h.dwd ?? 0.1), embedding: lp(h.elr ?? 1e-3, h.ewd ?? 0), linear: lp(h.llr ?? 1e-3, h.lwd ?? 0), bias: lp(h.blr ?? h.llr ?? 1e-3, 0) });
  const res = [];
  for (let e = 0; e < (h.epochs ?? 3); e++) {
    for (const b of train) ts.run(b);
    const ps: number[] = [], ys: number[] = [];
    for (const b of test) { const p = model.predict(b); for (let i = 0; i < b.size; i++) { ps.push(p[i]); ys.push(b.labels[i]); } }
    const f = evalFigures(ps, ys); res.push(`${f.auc.toFixed(4)}/${f.logloss.toFixed(4)}`);
  }
  console.log(JSON.stringify(h), res.join(' '));
  model.dispose(); ts.denseLion.dispose();
}
