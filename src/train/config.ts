/**
 * Config sections of the trainer (src/train/trainer.ts): `train` (batch size, stopping,
 * progressive validation window, progress lines, audit log), `checkpoint` (src/train/
 * checkpoint.ts) and `export` (the exports root the trainer writes and the server reads,
 * src/train/export-writer.ts).
 */
import type { ConfigValues } from '../config/formats.ts';

/** Convict schema of `train.*`. */
export const trainConfig = {
  batchSize: { doc: 'Examples per step', format: 'positive-int', default: 4096, env: 'LIONCTR_BATCH_SIZE' },
  maxExamples: {
    doc: 'Stop after this many examples (0 = run until the source ends or SIGTERM)',
    format: 'nat',
    default: 0,
    env: 'LIONCTR_MAX_EXAMPLES',
  },
  metricsWindow: { doc: 'Examples in the progressive-validation window', format: 'positive-int', default: 100_000 },
  progressSeconds: { doc: 'Seconds between progress lines', format: 'nonneg-number', default: 5 },
  maxNonfiniteSteps: {
    doc:
      'Steps in a row with a non-finite loss or gradient (each skipped: no update) after which training stops ' +
      'with LIONCTR_DIVERGED, keeping the last good checkpoint and export',
    format: 'positive-int',
    default: 10,
    env: 'LIONCTR_MAX_NONFINITE_STEPS',
  },
  auditLog: {
    doc: "Test/debug aid: JSON-lines file receiving every trained row's source position per step (empty = off)",
    format: String,
    default: '',
    env: 'LIONCTR_AUDIT_LOG',
  },
};

/** Convict schema of `checkpoint.*`. */
export const checkpointConfig = {
  enabled: {
    doc: 'Write checkpoints and resume from the newest valid one at start',
    format: Boolean,
    default: true,
    env: 'LIONCTR_CHECKPOINT_ENABLED',
  },
  dir: {
    doc: 'Checkpoints root (empty = <export.dir>/checkpoints)',
    format: String,
    default: '',
    env: 'LIONCTR_CHECKPOINT_DIR',
  },
  intervalSeconds: {
    doc: 'Seconds between checkpoints (one is also written at the end and when a Kafka partition is released)',
    format: 'nonneg-number',
    default: 30,
    env: 'LIONCTR_CHECKPOINT_INTERVAL_SECONDS',
  },
  keep: { doc: 'Checkpoints kept on disk', format: 'positive-int', default: 2 },
};

/** Convict schema of `export.*`. */
export const exportConfig = {
  dir: { doc: 'Exports root (versions + LATEST)', format: String, default: 'exports', env: 'LIONCTR_EXPORT_DIR' },
  intervalSeconds: {
    doc: 'Seconds between periodic exports (0 = only at the end)',
    format: 'nonneg-number',
    default: 60,
    env: 'LIONCTR_EXPORT_INTERVAL_SECONDS',
  },
  deltaIntervalSeconds: {
    doc:
      'Seconds between delta exports (rows changed since the previous export + the dense tower, under the last ' +
      'full export) between full exports; 0 = no deltas',
    format: 'nonneg-number',
    default: 10,
    env: 'LIONCTR_EXPORT_DELTA_INTERVAL_SECONDS',
  },
  keep: { doc: 'Export versions kept on disk', format: 'positive-int', default: 3 },
};

/** The resolved `train` section. */
export type TrainSection = ConfigValues<typeof trainConfig>;
/** The resolved `checkpoint` section. */
export type CheckpointSection = ConfigValues<typeof checkpointConfig>;
/** The resolved `export` section. */
export type ExportSection = ConfigValues<typeof exportConfig>;
