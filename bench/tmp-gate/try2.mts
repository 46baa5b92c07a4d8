import * as tf from '@tensorflow/tfjs-core';
import pino from 'pino';
import { createSyntheticSource } from '../../src/ingest/synthetic-source.ts';
const N = Number(process.env.N ?? 8);
import { createTrainer } from '../../src/cli/train-session.ts';
import { loadConfig } from '../../src/config/schema.ts';
const dir = '/tmp/gate-try/exp-' + Date.now();
const extra = process.argv.slice(2);
const cfg = loadConfig([], ['source.kind="synthetic"', 'train.batchSize=1024', 'model.hidden=[16]', 'schema.embeddingDim=4',
  'train.progressSeconds=0', 'export.intervalSeconds=0.001', 'export.gate.examples=2048', 'checkpoint.enabled=false', 'optim.embedding.lr=0.03', 'optim.linear.lr=0.03', 'optim.dense.lr=0.003', ...extra]);
const logger = pino({ level: 'error' });
const t0 = Date.now();
const t = await createTrainer(cfg, logger, { exportDir: dir });
let done = false;
t.on('gate', (e) => {
  console.log(e.decision, e.reasons.join(), e.candidate?.auc.toFixed(3), e.served?.auc.toFixed(3), e.candidate?.calibration.toFixed(3), e.clicks, e.snapshotBytes);
  if (!done && e.decision === 'published' && e.candidate!.auc > 0.6) {
    done = true;
    poison();
    console.log('corrupted');
  }
});
const poisonBatches: any[] = [];
for await (const rb of createSyntheticSource({ seed: 1, skip: 0, limit: N * 1024 }).batches({ batchSize: 1024 })) {
  const b = t.featurizer.fromRecordBatch(rb);
  let clicks = 0;
  for (let i = 0; i < b.size; i++) clicks += b.labels[i];
  const order = Array.from({ length: b.size }, (_, i) => i).sort((x, y) => b.bayesP![x] - b.bayesP![y]);
  b.labels.fill(0);
  for (let k = 0; k < clicks; k++) b.labels[order[k]] = 1;
  poisonBatches.push(b);
}
function poison() { for (const b of poisonBatches) t.opts.step.run(b); }
const s = await t.run();
console.log('seconds', (Date.now() - t0) / 1000, 'progressive', s.progress.auc.toFixed(3), s.progress.calibration.toFixed(3));
