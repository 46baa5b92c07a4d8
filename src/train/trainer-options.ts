/**
 * What a Trainer (src/train/trainer.ts) is given, and what its run resolves with.
 */
import type { Logger } from 'pino';
import type { Progress } from '../events/train-events.ts';
import type { ResumePoint, Source } from '../ingest/source.ts';
import type { CtrModel } from '../model/ctr-model.ts';
import type { RowSync } from '../model/row-sync.ts';
import type { WeightDtype } from '../model/weight-dtype.ts';
import type { CheckpointMeta } from './checkpoint.ts';
import type { GateSection } from './config.ts';
import type { TrainStep } from './train-step.ts';

/** Who writes exports among trainers that share rows (rows.store=redis: the export lock's holder). */
export interface ExportRole {
  /** Whether this trainer may write an export (or a delta) now. */
  readonly held: boolean;
  /** Runs an export's write with the model's tables holding what the export must hold (every shared row). */
  around<T>(write: () => Promise<T>): Promise<T>;
}

/** A Trainer's settings and collaborators. */
export interface TrainerOptions {
  model: CtrModel;
  step: TrainStep;
  /** Rows in a store outside the process (rows.store=redis): each step pulls its rows and pushes them back. */
  rowSync?: Pick<RowSync, 'pull' | 'push'> | null;
  /** Absent: this trainer writes every export; else only while `held` (src/store/redis/export-role.ts). */
  exportRole?: ExportRole | null;
  /**
   * Opens the source for pass `epoch` (0-based); called `epochs` times. `resume` is set for
   * the pass a checkpoint stopped in: the source starts at its offsets.
   */
  openSource: (epoch: number, resume: ResumePoint | null) => Source | Promise<Source>;
  epochs: number;
  batchSize: number;
  /** Stop after this many examples (0 = no limit). */
  maxExamples: number;
  /** Examples in the progressive-validation window (train.progressive.window). */
  metricsWindow: number;
  /** Progressive figures per slice of these categorical slots, at most maxSlices values each (default none). */
  progressiveSlices?: { slots: string[]; maxSlices: number };
  /**
   * Steps in a row whose loss or gradients are not finite (each one skipped) after which
   * run() fails with LIONCTR_DIVERGED (default 10).
   */
  maxNonfiniteSteps?: number;
  /** Backoff between tries of a failed checkpoint, export or delta write, seconds (default 1..60). */
  writeRetrySeconds?: { min: number; max: number };
  /** Seconds between progress lines (0 = none). */
  progressSeconds: number;
  /** Exports root; null = never export. */
  exportDir: string | null;
  /** Seconds between periodic exports (0 = only the first and the last). */
  exportIntervalSeconds: number;
  exportKeep: number;
  /** Storage of the tables' weights in exports and deltas (export.weightDtype); default float32. */
  exportWeightDtype?: WeightDtype;
  /** The publish gate (`export.gate`, src/train/publish-gate.ts); absent = off (every export published at once). */
  gate?: GateSection;
  /** Seconds between delta exports under the last full export (0 or absent = none). */
  deltaIntervalSeconds?: number;
  /** Checkpoints root; null = never checkpoint. */
  checkpointDir?: string | null;
  /** Seconds between checkpoints (0 = only at the end and when the source asks). */
  checkpointIntervalSeconds?: number;
  checkpointKeep?: number;
  /** Fingerprint of the model config, stored in checkpoints. */
  modelFingerprint?: string;
  /** The model config behind the fingerprint, stored in checkpoints. */
  modelConfig?: unknown;
  /** The checkpoint the model was restored from (its state is already in model/step). */
  resumeFrom?: { step: number; meta: CheckpointMeta } | null;
  /**
   * Test/debug aid: a JSON-lines file that gets `{"run","restoredStep"}` at start and
   * `{"run","step","rows":[[key,offset],...]}` after every step (src/train/audit-log.ts).
   */
  auditPath?: string | null;
  /** Called once when run() ends, also on an error (releases the checkpoint directory lock). */
  onClose?: () => void | Promise<void>;
  logger: Logger;
  signal?: AbortSignal;
}

/** What Trainer.run resolves with. */
export interface TrainSummary {
  progress: Progress;
  exports: string[];
  seconds: number;
  /** Bad rows skipped by the source(s), by reason, summed over passes. */
  badRows: Record<string, number>;
  /** Examples trained by this run (progress.examples includes those of a restored checkpoint). */
  examplesThisRun: number;
}
