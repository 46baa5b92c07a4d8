/**
 * The trainer's events, in one table (`TrainEvents`: name -> payload). The trainer
 * (src/train/trainer.ts) emits them, the audit log (src/train/audit-log.ts) and the metric
 * catalogue (src/metrics/train-observer.ts) subscribe, and `lionctr run` relays them from
 * the trainer's worker thread (src/cli/train-worker.ts) with `relayTrainEvents` /
 * `emitTrainEventMessage`. This module imports nothing of src/train, so that metrics may
 * import it.
 */
import type { EventEmitter } from 'node:events';
import type { EventArgs, TypedEmitter } from './typed-emitter.ts';

/** Rows read since the previous `ingest` event: trained ok, and new bad rows by reason. */
export interface IngestEvent {
  ok: number;
  bad: Record<string, number>;
}

/** Where the rows of a trained batch came from: row b is `offsets[b]` of `partitions[b]` of `source`. */
export interface BatchPositions {
  /** Source name; a row's position key is positionKey(source, partitions[b]). */
  source: string;
  /** [examples] int32. */
  partitions: Int32Array;
  /** [examples] float64, the row's offset in its partition. */
  offsets: Float64Array;
}

/** One training step (a mini-batch scored, then trained on). */
export interface StepEvent {
  /** The optimizer step counter after this step. */
  step: number;
  examples: number;
  /** Wall time of the step (featurize, forward, backward, optimizer updates), seconds. */
  seconds: number;
  /** Logloss of the batch before its update, nats. */
  loss: number;
  /** Event time of the newest trained example (ms since the epoch), null if none. */
  watermarkMs: number | null;
  /** The trained rows' positions; in the trainer's thread only (not relayed by the worker). */
  positions?: BatchPositions;
}

/**
 * A step whose loss or gradients were NaN or infinite: its update was skipped (the batch's
 * examples still count as consumed). Emitted after that step's `step` event.
 */
export interface NonFiniteEvent {
  /** The optimizer step counter, unchanged by the skipped step. */
  step: number;
  examples: number;
  /** What was not finite, e.g. `loss NaN; gradient of tower/w0 (12 of 3072 values)`. */
  what: string;
  /** Skipped steps in a row, this one included. */
  inARow: number;
}

/**
 * Progressive-validation figures of one scope (src/train/evaluation/stream-figures.ts): the window
 * (last N examples), the lifetime (since the trainer started), or a slice of either. Undefined
 * ones are NaN: AUC without clicks or non-clicks, NE and calibration without clicks, every figure
 * but CTR and examples while a NaN or infinite prediction is in the scope, all of them when empty.
 */
export interface QualityFigures {
  /** Binned ROC AUC (src/train/evaluation/auc-bins.ts). */
  auc: number;
  /** Stated bound on |auc - exact sort-based AUC| of the same examples. */
  aucErrorBound: number;
  /** Mean logloss, nats. */
  logloss: number;
  /** Normalized entropy: logloss / entropy of the scope's CTR. */
  ne: number;
  /** sum w p / sum w y (w: example weights, 1 unless schema.weight or train.negativeRate; stream-figures.ts). */
  calibration: number;
  /** sum w y / sum w: clicks / examples when unweighted. */
  ctr: number;
  /** Examples counted (unweighted). */
  examples: number;
  /** Logloss of the true probabilities (synthetic source only; NaN otherwise). */
  bayesLogloss: number;
}

/** The figures of one slice: `slice` is a raw value of slot `slot`, or `other` / `missing`. */
export interface SliceQuality {
  slot: string;
  slice: string;
  window: QualityFigures;
  lifetime: QualityFigures;
}

/**
 * Progress figures (the `progress` event; also in TrainSummary). A figure that is undefined
 * over the window (AUC without clicks or without non-clicks, any figure over non-finite
 * predictions or an empty window) is NaN.
 */
export interface Progress {
  step: number;
  examples: number;
  /** Examples per second since the previous progress line. */
  examplesPerSecond: number;
  auc: number;
  logloss: number;
  ne: number;
  calibration: number;
  /** Logloss of the true probabilities over the same window (synthetic source only). */
  bayesLogloss?: number;
  /** (LL_base - LL_model) / (LL_base - LL_bayes) over the window (synthetic only). */
  gainCaptured?: number;
  /** Examples in the window. */
  window: number;
  /** The window's CTR and the bound on |auc - exact AUC|. */
  ctr: number;
  aucErrorBound: number;
  /** The same figures since the trainer started (or resumed). */
  lifetime: QualityFigures;
  /** Per slice of train.progressive.sliceSlots (window and lifetime); [] when none. */
  slices: SliceQuality[];
}

/**
 * Embedding table sizes, emitted with every progress line; `admitted`, `rejected` and `evicted`
 * are the slot's totals since the trainer started (rows made; training lookups of ids refused a
 * row; rows removed by model.eviction).
 */
export interface TablesEvent {
  slots: { slot: string; rows: number; bytes: number; admitted?: number; rejected?: number; evicted?: number }[];
  watermarkMs: number | null;
}

/**
 * An export written: its version, wall time (s), size (bytes) and event-time watermark (ms).
 * It is a candidate until the `gate` event about it says whether LATEST moved to it.
 */
export interface ExportEvent {
  version: string;
  seconds: number;
  bytes: number;
  watermarkMs: number | null;
}

/** Held-out figures of one model in a publish-gate decision; undefined figures are NaN. */
export interface GateFigures {
  /** ROC AUC over the held-out examples. */
  auc: number;
  /** sum p / sum y over the held-out examples. */
  calibration: number;
}

/**
 * A publish-gate decision about the export `version` (src/train/publish-gate.ts):
 * `published` (judged and passed), `refused` (LATEST unchanged; `reasons` say why),
 * `unjudged` (published: too few held-out examples or clicks to judge), `ungated` (published:
 * nothing served yet to compare with).
 */
export interface GateEvent {
  version: string;
  decision: 'published' | 'refused' | 'unjudged' | 'ungated';
  /** Why it was refused: `auc_drop`, `calibration` (both may be), `unjudged_after_refusal`; [] otherwise. */
  reasons: string[];
  /** Held-out examples scored, and the clicks among them. */
  examples: number;
  clicks: number;
  /** The candidate's and the served version's figures; null when not scored. */
  candidate: GateFigures | null;
  served: GateFigures | null;
  /** Bytes the copy-on-write snapshot of the served version holds (src/train/published-snapshot.ts). */
  snapshotBytes: number;
  /** Wall time of the decision (scoring, the rename, LATEST), seconds. */
  seconds: number;
}

/**
 * LATEST moved to the export `version` (src/train/publish-gate.ts): with the gate on, after a
 * `published`, `unjudged` or `ungated` decision; with the gate off, after every export.
 */
export interface PublishedEvent {
  version: string;
}

/**
 * A delta export written (src/train/delta-exports.ts): `<root>/<base>/delta-<seq>`, served as
 * `version` once applied; its changed rows and tombstones (all slots), wall time (s), size
 * (bytes: dense tower + rows + tombstones) and event-time watermark (ms).
 */
export interface DeltaEvent {
  version: string;
  base: string;
  seq: number;
  rows: number;
  tombstones: number;
  seconds: number;
  bytes: number;
  watermarkMs: number | null;
}

/** A durable checkpoint written: its step, wall time (s) and size (bytes). */
export interface CheckpointEvent {
  step: number;
  seconds: number;
  bytes: number;
}

/**
 * A checkpoint, export or delta that could not be written (disk full, I/O error): nothing of it
 * stays on disk, training goes on, and the write is tried again after `retryInSeconds`.
 */
export interface WriteFailureEvent {
  kind: 'export' | 'checkpoint' | 'delta';
  /** The error message: what was being written, the file, the operation, the system's reason. */
  error: string;
  /** The system code (ENOSPC, EDQUOT, EIO, ...), when known. */
  reason?: string;
  /** Failures of this kind in a row, this one included. */
  inARow: number;
  retryInSeconds: number;
}

/** Consumer lag per partition held now (messages behind the high watermark), with the consumer group. */
export type LagEvent = { group: string; topic: string; partition: number; lag: number }[];

/** Times the source paused fetching for backpressure, cumulative. */
export interface BackpressureEvent {
  pauses: number;
}

/** Out-of-range positions reset per partition and the messages they skipped, cumulative (kafka.offsetReset). */
export type OffsetResetsEvent = { group: string; topic: string; partition: number; resets: number; skipped: number }[];

/** The events table: event name -> payload. */
export interface TrainEvents {
  ingest: IngestEvent;
  step: StepEvent;
  nonfinite: NonFiniteEvent;
  progress: Progress;
  tables: TablesEvent;
  export: ExportEvent;
  gate: GateEvent;
  published: PublishedEvent;
  delta: DeltaEvent;
  checkpoint: CheckpointEvent;
  writeFailure: WriteFailureEvent;
  lag: LagEvent;
  backpressure: BackpressureEvent;
  offsetResets: OffsetResetsEvent;
}

/** A trainer event name. */
export type TrainEventName = keyof TrainEvents;

/** Every trainer event name (the compiler checks that the list is the table's keys). */
export const TRAIN_EVENT_NAMES = Object.keys({
  ingest: 0,
  step: 0,
  nonfinite: 0,
  progress: 0,
  tables: 0,
  export: 0,
  gate: 0,
  published: 0,
  delta: 0,
  checkpoint: 0,
  writeFailure: 0,
  lag: 0,
  backpressure: 0,
  offsetResets: 0,
} satisfies Record<TrainEventName, 0>) as TrainEventName[];

/** An emitter of the trainer's events (a Trainer, or the relay of a worker's messages). */
export type TrainEmitter = TypedEmitter<TrainEvents>;

/** A trainer event as posted across a worker thread. */
export type TrainEventMessage = { [K in TrainEventName]: { type: K; payload: TrainEvents[K] } }[TrainEventName];

/**
 * A trainer event as a worker message. The step event goes without its `positions` (the
 * batch's typed arrays: their whole buffers would be copied, and nothing across needs them).
 */
export function toTrainEventMessage<K extends TrainEventName>(type: K, payload: TrainEvents[K]): TrainEventMessage {
  if (type === 'step') {
    const { positions: _, ...rest } = payload as StepEvent;
    return { type: 'step', payload: rest };
  }
  return { type, payload } as TrainEventMessage;
}

/** Every event of `events` from now on, as a message to `post` (the worker's side of the relay). */
export function relayTrainEvents(events: TrainEmitter, post: (msg: TrainEventMessage) => void): void {
  const untyped = events as EventEmitter<EventArgs<Record<TrainEventName, unknown>>>;
  for (const type of TRAIN_EVENT_NAMES) {
    untyped.on(type, (payload) => post(toTrainEventMessage(type, payload as TrainEvents[typeof type])));
  }
}

/** Re-emits a worker's event message on `events` (the main thread's side). @returns false when nothing listened. */
export function emitTrainEventMessage(events: TrainEmitter, msg: TrainEventMessage): boolean {
  return (events as EventEmitter<EventArgs<Record<TrainEventName, unknown>>>).emit(msg.type, msg.payload);
}
