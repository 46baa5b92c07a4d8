import { selectBackend } from '../src/model/backend.ts';
import { CtrModel } from '../src/model/ctr-model.ts';
import { TrainStep } from '../src/train/train-step.ts';
import { Featurizer } from '../src/features/featurizer.ts';
import { criteoSlots } from '../src/features/schema.ts';
import { createSyntheticSource } from '../src/ingest/synthetic-source.ts';
import { ProgressiveMetrics } from '../src/train/metrics/progressive.ts';
await selectBackend('auto');
const h = JSON.parse(process.argv[2]);
const N = h.n ?? 500_000;
const schema = { ...criteoSlots(), embeddingDim: h.dim ?? 16 };
const fz = new Featurizer(schema);
const model = new CtrModel(schema, { hidden: h.hidden ?? [256, 128], initStd: h.initStd ?? 0.01, seed: 1, fm: h.fm ?? false });
const lp = (lr: number, wd: number, b2 = 0.99) => ({ lr, beta1: 0.9, beta2: b2, weightDecay: wd });
const optim = { dense: lp(h.dlr ?? 1e-4, h.dwd ?? 0.1, h.b2), embedding: lp(h.elr ?? 1e-3, h.ewd ?? 0, h.b2), linear: lp(h.llr ?? 1e-3, h.lwd ?? 0, h.b2), bias: lp(h.blr ?? 1e-3, 0), rowDecayUpdates: h.tau ?? 0 };
const ts = new TrainStep(model, optim);
const base = { d: optim.dense.lr, e: optim.embedding.lr, l: optim.linear.lr };
const pm = new ProgressiveMetrics(100_000);
let n = 0; const t0 = performance.now(); const marks = [100_000, 250_000, 500_000, 1_000_000, 1_500_000, 2_000_000]; const out: string[] = [];
for await (const rb of createSyntheticSource({ seed: 1, limit: N }).batches({ batchSize: h.bs ?? 4096 })) {
  if (h.T0) { const f = 1 / Math.sqrt(1 + ts.step / h.T0); optim.dense.lr = base.d * f; optim.embedding.lr = base.e * f; optim.linear.lr = base.l * f; }
  const b = fz.fromRecordBatch(rb); const r = ts.run(b); pm.add(r.predictions, b.labels, b.bayesP, b.size); n += b.size;
  if (marks.some((m) => n >= m && n - b.size < m) || n >= N) { const f = pm.figures(); const base = f.logloss / f.ne; out.push(`${(n/1e6).toFixed(2)}M g=${((base - f.logloss) / (base - f.bayesLogloss!)).toFixed(3)} auc=${f.auc.toFixed(3)} cal=${f.calibration.toFixed(2)}`); }
}
console.log(JSON.stringify(h), out.join(' | '), `${(n / ((performance.now() - t0) / 1000)).toFixed(0)} ex/s`);
