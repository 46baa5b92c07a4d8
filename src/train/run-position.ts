/**
 * Where a training run stands (DESIGN.md "Ids, offsets and exactly-once"): examples
 * trained, the pass (0-based) in progress and the examples trained in it, the next offset to
 * read per position key (`<source name>/<partition>`) and the event-time watermark. It is
 * what a checkpoint records besides the TrainState and what a resumed run starts from. No
 * I/O: the trainer moves it forward batch by batch and pass by pass.
 */
import { isKeyOf, positionKey } from '../ingest/position-key.ts';
import type { ResumePoint } from '../ingest/source.ts';
import type { CheckpointMeta } from './checkpoint.ts';

/** The position fields of a checkpoint's metadata. */
export type PositionMeta = Pick<CheckpointMeta, 'examples' | 'sourceOffsets' | 'pass' | 'passExamples' | 'watermarkMs'>;

/** The rows of a trained batch: per row its event time (ms, NaN = unknown), partition and offset. */
export interface TrainedRows {
  size: number;
  /** [size] float64 ms since the epoch, NaN when unknown. */
  eventTimeMs: Float64Array;
  /** [size] int32. */
  partitions: Int32Array;
  /** [size] float64. */
  offsets: Float64Array;
}

/** A run's position; a fresh run starts at zero everywhere. */
export class RunPosition {
  /** Examples trained so far (all passes, restored ones included). */
  examples = 0;
  /** The pass in progress (0-based); after the last pass, the number of passes. */
  pass = 0;
  /** Examples trained in the pass in progress. */
  passExamples = 0;
  /** Event time of the newest trained example (ms), null if none. */
  watermarkMs: number | null = null;
  private nextOffsets: Record<string, number> = {};

  /** The position a checkpoint recorded (its offsets copied). */
  static fromCheckpoint(meta: PositionMeta): RunPosition {
    const p = new RunPosition();
    p.examples = meta.examples;
    p.nextOffsets = { ...meta.sourceOffsets };
    p.watermarkMs = meta.watermarkMs;
    p.pass = meta.pass;
    p.passExamples = meta.passExamples;
    return p;
  }

  /** The position fields of a checkpoint (offsets copied). */
  toMeta(): PositionMeta {
    return {
      examples: this.examples,
      sourceOffsets: this.offsets(),
      pass: this.pass,
      passExamples: this.passExamples,
      watermarkMs: this.watermarkMs,
    };
  }

  /** Next offset per position key (a copy). */
  offsets(): Record<string, number> {
    return { ...this.nextOffsets };
  }

  /**
   * Where the pass a checkpoint stopped in resumes: null when that pass had not started (or
   * had finished: the offsets are then the previous pass's), so it starts from the beginning.
   */
  resumePoint(): ResumePoint | null {
    return this.passExamples > 0 ? { nextOffsets: this.offsets(), passExamples: this.passExamples } : null;
  }

  /** Pass `pass` starts; unless it resumes, its positions in `source` start over. */
  beginPass(pass: number, source: string, resumed: boolean): void {
    if (!resumed) {
      this.clearOffsetsOf(source);
      this.passExamples = 0;
    }
    this.pass = pass;
  }

  /**
   * Pass `pass` of `passes` is complete: a checkpoint from here on resumes at the next pass
   * (its positions start over; after the last pass they are kept for the record).
   */
  endPass(pass: number, passes: number, source: string): void {
    this.pass = pass + 1;
    this.passExamples = 0;
    if (pass + 1 < passes) this.clearOffsetsOf(source);
  }

  /**
   * Counts a trained batch of `source`: examples, watermark (the newest known event time),
   * and per partition the next offset after its last row (offsets rise within a partition; a
   * source that starts a partition over, e.g. a recreated Kafka topic, may lower it).
   */
  account(source: string, rows: TrainedRows): void {
    this.examples += rows.size;
    this.passExamples += rows.size;
    for (let b = 0; b < rows.size; b++) {
      const t = rows.eventTimeMs[b];
      if (!Number.isNaN(t) && (this.watermarkMs === null || t > this.watermarkMs)) this.watermarkMs = t;
      this.nextOffsets[positionKey(source, rows.partitions[b])] = rows.offsets[b] + 1;
    }
  }

  private clearOffsetsOf(source: string): void {
    for (const k of Object.keys(this.nextOffsets)) if (isKeyOf(k, source)) delete this.nextOffsets[k];
  }
}
