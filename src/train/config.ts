/**
 * Config sections of the trainer (src/train/trainer.ts): `train` (batch size, stopping,
 * progressive validation window and slices, progress lines, audit log), `checkpoint` (src/train/
 * checkpoint.ts) and `export` (the exports root the trainer writes and the server reads,
 * src/train/export-writer.ts, and its publish gate, src/train/publish-gate.ts).
 */
import convict from 'convict';
import { oneOf, parseJsonOrKeep, type ConfigValues } from '../config/formats.ts';
import { WEIGHT_DTYPES } from '../model/weight-dtype.ts';
import { MAX_SLICES } from './evaluation/slice-keys.ts';

/** Checks `[lo, hi]`: two finite numbers, 0 < lo <= 1 <= hi (a calibration range around 1). */
function validateRange(v: unknown): void {
  const ok =
    Array.isArray(v) &&
    v.length === 2 &&
    v.every((x) => typeof x === 'number' && Number.isFinite(x)) &&
    v[0] > 0 &&
    v[0] <= 1 &&
    v[1] >= 1;
  if (!ok) throw new Error('must be [lo, hi] with 0 < lo <= 1 <= hi, e.g. [0.5, 2]');
}

convict.addFormat({ name: 'calibration-range', validate: validateRange, coerce: parseJsonOrKeep });
convict.addFormat({
  name: 'max-slices',
  validate: (v: unknown) => {
    if (!(Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_SLICES))
      throw new Error(`must be an integer in 1..${MAX_SLICES}`);
  },
  coerce: (v: unknown) => Number(v),
});

/** Convict schema of `train.*`. */
export const trainConfig = {
  batchSize: { doc: 'Examples per step', format: 'positive-int', default: 4096, env: 'LIONCTR_BATCH_SIZE' },
  maxExamples: {
    doc: 'Stop after this many examples (0 = run until the source ends or SIGTERM)',
    format: 'nat',
    default: 0,
    env: 'LIONCTR_MAX_EXAMPLES',
  },
  metricsWindow: {
    doc: 'Deprecated name of train.progressive.window: when > 0 it is the window (0 = use train.progressive.window)',
    format: 'nat',
    default: 0,
  },
  progressive: {
    window: {
      doc: 'Examples in the progressive-validation window (lionctr_progressive_*{scope="window"})',
      format: 'positive-int',
      default: 100_000,
    },
    sliceSlots: {
      doc:
        'Categorical slots whose values get progressive figures of their own (lionctr_progressive_slice_*), ' +
        'e.g. ["country","ad_type"]; [] = none',
      format: 'string-list',
      default: [] as string[],
    },
    maxSlices: {
      doc:
        'Values per sliced slot with a slice of their own: the first ones seen; later values go to slice ' +
        `"other" (1..${MAX_SLICES}; memory ~141 KB per slice)`,
      format: 'max-slices',
      default: 20,
    },
  },
  progressSeconds: { doc: 'Seconds between progress lines', format: 'nonneg-number', default: 5 },
  maxNonfiniteSteps: {
    doc:
      'Steps in a row with a non-finite loss or gradient (each skipped: no update) after which training stops ' +
      'with LIONCTR_DIVERGED, keeping the last good checkpoint and export',
    format: 'positive-int',
    default: 10,
    env: 'LIONCTR_MAX_NONFINITE_STEPS',
  },
  writeRetrySeconds: {
    min: {
      doc: 'Seconds before the first retry of a checkpoint, export or delta that failed to write (disk full)',
      format: 'nonneg-number',
      default: 1,
    },
    max: {
      doc: 'Most seconds between retries of a failed write (the delay doubles from min up to it)',
      format: 'nonneg-number',
      default: 60,
    },
  },
  negativeRate: {
    doc:
      'r in (0, 1]: the training log kept each negative with probability r (negative downsampling). Predictions ' +
      'are recalibrated to the full log, q / (q + (1 - q) / r), for progressive metrics, eval and serving (the ' +
      'export records r); training itself is unchanged. 1 = not downsampled',
    format: (v: unknown) => {
      if (typeof v !== 'number' || !(v > 0 && v <= 1)) throw new Error('must be a number in (0, 1]');
    },
    default: 1,
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
  weightDtype: {
    doc:
      'Storage of the embedding and linear weights in exports and deltas: float32, float16 or bfloat16 (half the ' +
      'bytes, rounded to nearest even; training stays float32; src/model/weight-dtype.ts)',
    ...oneOf([...WEIGHT_DTYPES], 'float32'),
  },
  gate: {
    enabled: {
      doc:
        'Publish gate (src/train/publish-gate.ts): LATEST moves to a new full export only if, on the next ' +
        'export.gate.examples examples of the stream (scored before they are trained on), its AUC is at most ' +
        'maxAucDrop below the served version and its calibration is within export.gate.calibration',
      format: Boolean,
      default: true,
      env: 'LIONCTR_EXPORT_GATE_ENABLED',
    },
    examples: {
      doc: 'Held-out examples the gate scores (whole batches, at least this many; fewer when the source ends)',
      format: 'positive-int',
      default: 4096,
      env: 'LIONCTR_EXPORT_GATE_EXAMPLES',
    },
    maxAucDrop: {
      doc: 'Largest AUC drop of the candidate below the served version (same examples) that is still published',
      format: 'nonneg-number',
      default: 0.02,
      env: 'LIONCTR_EXPORT_GATE_MAX_AUC_DROP',
    },
    calibration: {
      doc: "Range [lo, hi] of the candidate's calibration (sum p / sum y on the held-out examples) to be published",
      format: 'calibration-range',
      default: [0.5, 2] as number[],
      env: 'LIONCTR_EXPORT_GATE_CALIBRATION',
    },
    maxHoldSeconds: {
      doc:
        'Longest wait for the held-out examples (the examples that arrive meanwhile are trained that much later, ' +
        'and a checkpoint due meanwhile waits too); then the gate decides on those held (a slow or idle stream)',
      format: 'nonneg-number',
      default: 5,
      env: 'LIONCTR_EXPORT_GATE_MAX_HOLD_SECONDS',
    },
    minClicks: {
      doc:
        'Clicks (and non-clicks) the held-out examples need for the gate to judge; with fewer the candidate is ' +
        'published unjudged (logged and counted)',
      format: 'positive-int',
      default: 20,
      env: 'LIONCTR_EXPORT_GATE_MIN_CLICKS',
    },
  },
};

/** The resolved `train` section. */
export type TrainSection = ConfigValues<typeof trainConfig>;

/** The progressive-validation window: train.metricsWindow (deprecated) when > 0, else train.progressive.window. */
export function progressiveWindow(train: TrainSection): number {
  return train.metricsWindow > 0 ? train.metricsWindow : train.progressive.window;
}
/** The resolved `checkpoint` section. */
export type CheckpointSection = ConfigValues<typeof checkpointConfig>;
/** The resolved `export` section. */
export type ExportSection = ConfigValues<typeof exportConfig>;
/** The resolved `export.gate` section (src/train/publish-gate.ts). */
export type GateSection = ExportSection['gate'];
