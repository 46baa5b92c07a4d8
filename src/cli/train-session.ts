import type { Logger } from 'pino';
import type { LionctrConfig } from '../config/schema.ts';
import { selectBackend } from '../model/backend.ts';
import { CtrModel } from '../model/ctr-model.ts';
import type { Metrics } from '../metrics/catalogue.ts';
import { observeTrainer } from '../metrics/train-observer.ts';
import { TrainStep } from '../train/train-step.ts';
import type { LrSchedule } from '../train/optim/schedule.ts';
import type { SparseMode } from '../train/optim/sparse-lion.ts';
import { lionFromAdamW, type LionParams } from '../train/optim/lion-config.ts';
import { Trainer } from '../train/trainer.ts';
import { featureSchemaOf, openConfiguredSource } from './common.ts';
import { LionctrError } from '../errors.ts';

/** Builds backend, model, optimizer and trainer from a config (used by `run` and `train`). */
export async function createTrainer(cfg: LionctrConfig, logger: Logger, opts: { metrics?: Metrics; signal?: AbortSignal; exportDir: string | null }): Promise<Trainer> {
  await selectBackend(cfg.backend as 'auto', (msg) => logger.info(msg));
  const schema = featureSchemaOf(cfg);
  const model = new CtrModel(schema, { hidden: cfg.model.hidden, initStd: cfg.model.initStd, seed: cfg.model.seed, fm: cfg.model.fm, momentumDtype: cfg.model.momentumDtype as 'float32' | 'bfloat16' });
  for (const slot of Object.keys(cfg.optim.tables)) {
    if (!model.slots.includes(slot)) throw new LionctrError('LIONCTR_BAD_CONFIG', `optim.tables names slot "${slot}", which the schema does not have`, { where: `optim.tables.${slot}` });
  }
  const conv = (p: LionParams) => (cfg.optim.fromAdamW.enabled ? lionFromAdamW(p, cfg.optim.fromAdamW.factor) : p);
  const step = new TrainStep(model, {
    dense: conv(cfg.optim.dense), embedding: conv(cfg.optim.embedding), linear: conv(cfg.optim.linear), bias: conv(cfg.optim.bias),
    schedule: cfg.optim.schedule as LrSchedule, sparseMode: cfg.optim.sparseMode as SparseMode, clipGlobalNorm: cfg.optim.clipGlobalNorm,
    tables: Object.fromEntries(Object.entries(cfg.optim.tables).map(([slot, o]) => [slot, conv({ ...cfg.optim.embedding, ...o } as LionParams) as LionParams & { mode?: SparseMode }])),
  });
  if (cfg.optim.fromAdamW.enabled) logger.info({ dense: step.denseLion.params[0], embedding: step.sparse.embedding }, `Lion settings derived from AdamW ones (factor ${cfg.optim.fromAdamW.factor})`);
  const trainer = new Trainer({
    model, step,
    openSource: () => openConfiguredSource(cfg, schema),
    epochs: cfg.source.kind === 'file' ? cfg.source.epochs : 1,
    batchSize: cfg.train.batchSize,
    maxExamples: cfg.train.maxExamples,
    metricsWindow: cfg.train.metricsWindow,
    progressSeconds: cfg.train.progressSeconds,
    exportDir: opts.exportDir,
    exportIntervalSeconds: cfg.export.intervalSeconds,
    exportKeep: cfg.export.keep,
    logger,
    signal: opts.signal,
  });
  if (opts.metrics) observeTrainer(trainer, opts.metrics);
  return trainer;
}
