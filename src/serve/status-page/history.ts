/**
 * @module The status page's bounded history (src/serve/status-page/): a ring buffer of the last
 * `capacity` samples of a fixed set of series, one Float64Array per series, allocated once.
 * Memory: 8 x SERIES.length x capacity bytes (13 series: 104 B a sample; the default 720 samples,
 * one hour at 5 s, hold 74,880 B), whatever runs how long.
 */

/**
 * The series kept per sample, in the order of `columns()`: `t` (unix seconds), progressive
 * quality over the window and over the trainer's lifetime (NaN where the process has no trainer
 * or the figure is undefined), throughputs, and freshness in seconds.
 */
export const SERIES = [
  't',
  'auc_window',
  'auc_lifetime',
  'logloss_window',
  'logloss_lifetime',
  'calibration_window',
  'calibration_lifetime',
  'train_examples_per_second',
  'predict_requests_per_second',
  'train_event_lag_seconds',
  'export_event_lag_seconds',
  'model_age_seconds',
  'serve_event_lag_seconds',
] as const;

/** A series name. */
export type SeriesName = (typeof SERIES)[number];

/** One sample: a number (NaN: undefined) per series. */
export type Sample = Record<SeriesName, number>;

/** A ring buffer of samples; the oldest is overwritten once `capacity` are held. */
export class StatusHistory {
  private readonly cols: Float64Array[];
  /** Index of the next write. */
  private next = 0;
  /** Samples held, at most capacity. */
  private held = 0;

  /** @param capacity samples kept (>= 1). @throws RangeError for a capacity below 1 or not an integer. */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`history capacity ${capacity}: not >= 1`);
    this.cols = SERIES.map(() => new Float64Array(capacity));
  }

  /** Bytes held by the buffers: 8 x series x capacity. */
  get bytes(): number {
    return 8 * SERIES.length * this.capacity;
  }

  /** Samples held now (<= capacity). */
  get length(): number {
    return this.held;
  }

  /** Appends `s`, dropping the oldest sample when full. */
  push(s: Sample): void {
    for (let i = 0; i < SERIES.length; i++) this.cols[i][this.next] = s[SERIES[i]];
    this.next = (this.next + 1) % this.capacity;
    this.held = Math.min(this.held + 1, this.capacity);
  }

  /** The newest sample, or undefined when none is held. */
  last(): Sample | undefined {
    if (this.held === 0) return undefined;
    const at = (this.next - 1 + this.capacity) % this.capacity;
    return Object.fromEntries(SERIES.map((n, i) => [n, this.cols[i][at]])) as Sample;
  }

  /**
   * The samples held, oldest first, as one array per series (uPlot's data layout); NaN is written
   * as null (JSON has no NaN; uPlot draws a gap).
   */
  columns(): Record<SeriesName, (number | null)[]> {
    const start = (this.next - this.held + this.capacity) % this.capacity;
    const out = {} as Record<SeriesName, (number | null)[]>;
    SERIES.forEach((n, i) => {
      const col = this.cols[i];
      const a = new Array<number | null>(this.held);
      for (let k = 0; k < this.held; k++) {
        const v = col[(start + k) % this.capacity];
        a[k] = Number.isFinite(v) ? v : null;
      }
      out[n] = a;
    });
    return out;
  }
}
