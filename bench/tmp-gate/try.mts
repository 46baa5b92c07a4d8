import pino from 'pino';
import { createTrainer } from '../../src/cli/train-session.ts';
import { loadConfig } from '../../src/config/schema.ts';
const dir = '/tmp/gate-try/exp-' + Date.now();
const extra = process.argv.slice(2);
const cfg = loadConfig([], ['source.kind="synthetic"', 'train.batchSize=1024', 'model.hidden=[16]', 'schema.embeddingDim=4',
  'train.progressSeconds=0', 'export.intervalSeconds=0.001', 'export.gate.examples=2048', 'checkpoint.enabled=false', ...extra]);
const logger = pino({ level: 'warn' });
const t0 = Date.now();
const t = await createTrainer(cfg, logger, { exportDir: dir });
t.on('gate', (e) => console.log(e.decision, e.reasons.join(), e.candidate?.auc.toFixed(3), e.served?.auc.toFixed(3), e.candidate?.calibration.toFixed(3), e.clicks, e.snapshotBytes));
const s = await t.run();
console.log('seconds', (Date.now() - t0) / 1000, 'progressive', s.progress.auc.toFixed(3), s.progress.calibration.toFixed(3));
