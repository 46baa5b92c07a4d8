import pino from 'pino';
import { createTrainer } from '../../src/cli/train-session.ts';
import { loadConfig } from '../../src/config/schema.ts';
const dir = '/tmp/gate-try/exp-' + Date.now();
const cfg = loadConfig([], ['source.kind="synthetic"', 'train.batchSize=256', 'model.hidden=[16]', 'schema.embeddingDim=4',
  'train.progressSeconds=0', 'train.maxExamples=8192', 'export.intervalSeconds=0.001', 'export.gate.examples=512', 'checkpoint.enabled=false']);
const logger = pino({ level: 'info' });
const t = await createTrainer(cfg, logger, { exportDir: dir });
t.on('gate', (e) => console.log(JSON.stringify(e)));
await t.run();
