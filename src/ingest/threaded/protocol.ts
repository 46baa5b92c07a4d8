/**
 * The messages between the training thread (./threaded-source.ts) and the ingest thread
 * (./worker.ts), and the snapshot of the source's counters that travels with each batch
 * and reply (so that the Source's synchronous getters answer on the training thread).
 *
 * Flow: the training side sends `open` (replied `ready` or `error`), then `start` with
 * `credits` (batches the ingest thread may send ahead); each batch spends one, each `pull` (a
 * batch taken for training) gives one back, so at most `credits` batches wait between the
 * threads. `untrained`, `checkpointed`, `stop` and `close` (replied `closed`; the thread then
 * waits for the next `open`) are ordered with `pull` (one port, FIFO), which keeps Kafka's
 * exactly-once bookkeeping as it is on one thread.
 * @module
 */
import type { FeatureSchema } from '../../features/schema.ts';
import type { Source } from '../source.ts';
import type { SourceSpec } from './source-spec.ts';
import type { ErrorData, PackedBatch } from './transfer.ts';

/** What the ingest thread opens (the `open` message). */
export interface OpenSource {
  spec: SourceSpec;
  /** The schema the batches are featurized by (the model's: src/features/featurizer.ts). */
  features: FeatureSchema;
  /** pino level of the ingest thread's logs (relayed to the training thread's logger). */
  logLevel: string;
}

/** The source's counters at one moment (the optional ones only when the source has them). */
export interface SourceSnapshot {
  stats: ReturnType<Source['stats']>;
  wanted?: boolean;
  pauses?: number;
  resets?: ReturnType<NonNullable<Source['offsetResets']>>;
  lag?: ReturnType<NonNullable<Source['lag']>>;
}

/** Which optional Source methods the source on the ingest thread has. */
export interface SourceCaps {
  checkpointed: boolean;
  untrained: boolean;
  checkpointWanted: boolean;
  backpressurePauses: boolean;
  offsetResets: boolean;
  lag: boolean;
}

/** Ingest thread -> training thread. */
export type FromIngest =
  | { type: 'ready'; name: string; caps: SourceCaps; snapshot: SourceSnapshot }
  | { type: 'batch'; seq: number; batch: PackedBatch; snapshot: SourceSnapshot }
  | { type: 'end'; snapshot: SourceSnapshot }
  | { type: 'error'; error: ErrorData; snapshot?: SourceSnapshot }
  | { type: 'checkpointed'; snapshot: SourceSnapshot; error?: ErrorData }
  | { type: 'closed'; snapshot: SourceSnapshot; error?: ErrorData }
  | { type: 'log'; line: string };

/** Training thread -> ingest thread. */
export type ToIngest =
  | ({ type: 'open' } & OpenSource)
  | { type: 'start'; batchSize: number; credits: number }
  | { type: 'pull' }
  | { type: 'untrained'; n: number }
  | { type: 'checkpointed'; next: Record<string, number> }
  | { type: 'stop' }
  | { type: 'close' };

/** The snapshot of `source` now. */
export function snapshotOf(source: Source): SourceSnapshot {
  const s: SourceSnapshot = { stats: source.stats() };
  if (source.checkpointWanted) s.wanted = source.checkpointWanted();
  if (source.backpressurePauses) s.pauses = source.backpressurePauses();
  if (source.offsetResets) s.resets = source.offsetResets();
  if (source.lag) s.lag = source.lag();
  return s;
}

/** The optional methods `source` has. */
export function capsOf(source: Source): SourceCaps {
  return {
    checkpointed: !!source.checkpointed,
    untrained: !!source.untrained,
    checkpointWanted: !!source.checkpointWanted,
    backpressurePauses: !!source.backpressurePauses,
    offsetResets: !!source.offsetResets,
    lag: !!source.lag,
  };
}
