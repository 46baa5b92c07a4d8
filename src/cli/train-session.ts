import type { Logger } from 'pino';
import type { LionctrConfig } from '../config/schema.ts';
import { selectBackend, trainerTfThreads } from '../model/backend.ts';
import { fingerprintedModelSection } from '../model/config.ts';
import type { Metrics } from '../metrics/catalogue.ts';
import { observeTrainer } from '../metrics/train-observer.ts';
import { TrainStep } from '../train/train-step.ts';
import { Trainer } from '../train/trainer.ts';
import { featureSchemaOf, sourceSpecOf } from './common.ts';
import { modelOf, optimConfigOf } from './model-setup.ts';
import { LionctrError } from '../errors.ts';
import { readLatestCheckpoint, type Checkpoint } from '../train/checkpoint.ts';
import { progressiveWindow } from '../train/config.ts';
import { sliceKeysOf } from '../train/evaluation/slice-keys.ts';
import { lockCheckpointDir } from '../train/dir-lock.ts';
import { restoreState } from '../train/train-state.ts';
import { sha256 } from '../model/export-format.ts';
import type { ResumePoint, Source } from '../ingest/source.ts';
import { openSourceSpec } from '../ingest/threaded/source-spec.ts';
import { openThreadedSource, prewarmIngestThread } from '../ingest/threaded/threaded-source.ts';
import { checkpointDirOf } from './checkpoint-dir.ts';
import { openRedisRows, type RedisRows } from '../store/redis/redis-rows.ts';

/**
 * Builds backend, model, optimizer and trainer from a config (used by `run` and `train`),
 * restoring the newest valid checkpoint of `checkpoint.dir` when there is one.
 * @throws LionctrError LIONCTR_BAD_CONFIG on a bad setting, or when the newest checkpoint
 *   belongs to a model of another shape (its fingerprint differs).
 */
export async function createTrainer(
  cfg: LionctrConfig,
  logger: Logger,
  opts: { metrics?: Metrics; signal?: AbortSignal; exportDir: string | null },
): Promise<Trainer> {
  if (cfg.source.thread.enabled) prewarmIngestThread(); // its start overlaps the set-up below
  const tfThreads = trainerTfThreads(cfg.source.thread.enabled);
  await selectBackend(cfg.backend, (msg) => logger.info(msg), { tfThreads });
  const schema = featureSchemaOf(cfg);
  const sliced = { slots: cfg.train.progressive.sliceSlots, maxSlices: cfg.train.progressive.maxSlices };
  sliceKeysOf(sliced.slots, sliced.maxSlices, schema); // a slot that cannot be sliced: refused before any lock
  const model = modelOf(cfg, schema);
  const step = new TrainStep(model, optimConfigOf(cfg, model.slots), (msg) => logger.warn(msg));
  logger.info(step.kernelNote);
  if (cfg.optim.fromAdamW.enabled)
    logger.info(
      { dense: step.denseLion.params[0], embedding: step.sparse.embedding },
      `Lion settings derived from AdamW ones (factor ${cfg.optim.fromAdamW.factor})`,
    );
  const modelConfig = { schema, model: fingerprintedModelSection(cfg.model) };
  const fingerprint = sha256(JSON.stringify(modelConfig)).slice(0, 16);
  const ckptDir = checkpointDirOf(cfg, opts.exportDir);
  const releaseDir = ckptDir ? lockCheckpointDir(ckptDir) : () => {};
  let rows: RedisRows | null = null; // rows.store=local
  const unlock = async () => {
    releaseDir();
    await rows?.close();
  };
  let ckpt: Checkpoint | null;
  try {
    const onLockChange = (held: boolean) => opts.metrics?.exportLockHeld.set(held ? 1 : 0);
    rows = await openRedisRows(cfg.rows, model, { logger, exportDir: opts.exportDir, onLockChange });
    ckpt = ckptDir
      ? await readLatestCheckpoint(ckptDir, (dir, e) =>
          logger.warn(`skipping unreadable checkpoint ${dir}: ${e.message}`),
        )
      : null;
    if (ckpt && ckpt.meta.modelFingerprint !== fingerprint) {
      const diff = ckpt.meta.modelConfig ? configDiff(ckpt.meta.modelConfig, modelConfig) : [];
      throw new LionctrError(
        'LIONCTR_BAD_CONFIG',
        `checkpoint ${ckpt.dir} is of a model with other settings` +
          `${diff.length ? ` (${diff.slice(0, 5).join('; ')})` : ' (schema or model.*)'}; ` +
          'point checkpoint.dir elsewhere or delete it to start afresh',
        { where: 'checkpoint.dir' },
      );
    }
    if (ckpt) restoreState(step, ckpt.state);
  } catch (e) {
    await unlock();
    throw e;
  }
  if (ckpt) {
    logger.info(
      { checkpoint: ckpt.dir, step: ckpt.step, examples: ckpt.meta.examples, offsets: ckpt.meta.sourceOffsets },
      `resuming from checkpoint step ${ckpt.step} ` +
        `(${ckpt.meta.examples} examples trained; delete ${ckptDir} to start afresh)`,
    );
  }
  const openSource = async (_epoch: number, resume: ResumePoint | null): Promise<Source> => {
    const spec = sourceSpecOf(cfg, schema, resume);
    const t = cfg.source.thread;
    if (t.enabled) return openThreadedSource({ spec, features: schema, queueBatches: t.queueBatches, logger });
    return openSourceSpec(spec, logger);
  };
  const trainer = new Trainer({
    model,
    step,
    rowSync: rows?.sync,
    exportRole: rows?.role,
    openSource,
    checkpointDir: ckptDir,
    checkpointIntervalSeconds: cfg.checkpoint.intervalSeconds,
    checkpointKeep: cfg.checkpoint.keep,
    modelFingerprint: fingerprint,
    modelConfig,
    resumeFrom: ckpt,
    onClose: unlock,
    auditPath: cfg.train.auditLog || null,
    epochs: cfg.source.kind === 'file' ? cfg.source.epochs : 1,
    batchSize: cfg.train.batchSize,
    maxExamples: cfg.train.maxExamples,
    metricsWindow: progressiveWindow(cfg.train),
    progressiveSlices: sliced,
    maxNonfiniteSteps: cfg.train.maxNonfiniteSteps,
    writeRetrySeconds: cfg.train.writeRetrySeconds,
    progressSeconds: cfg.train.progressSeconds,
    exportDir: opts.exportDir,
    exportIntervalSeconds: cfg.export.intervalSeconds,
    deltaIntervalSeconds: cfg.export.deltaIntervalSeconds,
    exportKeep: cfg.export.keep,
    exportWeightDtype: cfg.export.weightDtype,
    gate: cfg.export.gate,
    logger,
    signal: opts.signal,
  });
  if (opts.metrics) observeTrainer(trainer, opts.metrics);
  return trainer;
}

/** The leaf keys whose values differ between two config objects, as "key: was -> now". */
function configDiff(was: unknown, now: unknown, path = ''): string[] {
  const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (isObj(was) && isObj(now)) {
    return [...new Set([...Object.keys(was), ...Object.keys(now)])].flatMap((k) =>
      configDiff(was[k], now[k], path ? `${path}.${k}` : k),
    );
  }
  return JSON.stringify(was) === JSON.stringify(now)
    ? []
    : [`${path}: ${JSON.stringify(was)} in the checkpoint, ${JSON.stringify(now)} now`];
}
