/**
 * The ingest contract: a Source yields Apache Arrow RecordBatches of click events (the
 * columns, their order and types: ./arrow/record-batch-builder.ts; their names:
 * src/features/columns.ts), decoders produce DecodedRows of a SlotSchema, and a
 * ResumePoint says where a pass resumes from a checkpoint.
 */
import type { RecordBatch } from 'apache-arrow';

/** Slot names of a stream, e.g. numeric I1..I13, categorical C1..C26. */
export interface SlotSchema {
  numeric: string[];
  categorical: string[];
}

/** A stream of click events as Arrow RecordBatches (columns: see ./arrow/record-batch-builder.ts). */
export interface Source {
  /** Human name for logs, e.g. "file:/x/criteo.tsv" or "synthetic(seed=1)". */
  readonly name: string;
  /**
   * Yields batches of at most batchSize rows, in source order, until the source ends (files) or
   * forever (synthetic, unless limit).
   */
  batches(opts: { batchSize: number; signal?: AbortSignal }): AsyncIterable<RecordBatch>;
  /** Counters of rows read and rows skipped as bad, by reason. */
  stats(): { rows: number; bad: Record<string, number> };
  /**
   * Sources with an external position store (Kafka): true when the source wants a
   * checkpoint soon (it gave up partitions that another trainer waits for). Such a
   * source may yield empty batches (0 rows) while idle so that the trainer gets a turn.
   */
  checkpointWanted?(): boolean;
  /**
   * Called after each durable checkpoint with the trainer's next offsets per position key
   * (`<source name>/<partition>`); a Kafka source commits them to the group here.
   */
  checkpointed?(nextOffsets: Record<string, number>): Promise<void>;
  /**
   * The last `n` rows of the batch just yielded were not trained (a `train.maxExamples` cut):
   * a source whose positions are committed must not count them as done.
   */
  untrained?(n: number): void;
  /** Times fetching paused because too many rows waited for training (backpressure), cumulative. */
  backpressurePauses?(): number;
  /**
   * Out-of-range positions reset per partition (kafka.offsetReset) and the messages they skipped,
   * cumulative, for sources with positions (Kafka).
   */
  offsetResets?(): { group: string; topic: string; partition: number; resets: number; skipped: number }[];
  /** Consumer lag per partition (messages behind the high watermark) and the consumer group, for sources with one. */
  lag?(): { group: string; topic: string; partition: number; lag: number }[];
  /** Releases connections; called once when the trainer is done with the source. */
  close?(): Promise<void>;
}

/** Where a pass starts when training resumes from a checkpoint. */
export interface ResumePoint {
  /** Next offset per position key (`<source name>/<partition>`), from the checkpoint. */
  nextOffsets: Record<string, number>;
  /** Examples of this pass already trained (a `limit` counts from the pass start). */
  passExamples: number;
}

/**
 * One decoded example. `numeric[i]` belongs to schema.numeric[i] (null = missing),
 * `categorical[j]` to schema.categorical[j] (null = missing); eventTimeMs is ms since the
 * epoch or null when the source has no time; `weight` is the sample weight (schema.weight, a
 * finite number >= 0), absent = 1.
 */
export interface DecodedRow {
  label: 0 | 1;
  eventTimeMs: number | null;
  numeric: (number | null)[];
  categorical: (string | null)[];
  weight?: number;
}
