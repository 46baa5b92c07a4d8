/**
 * A cadence: something done every N seconds, or at once when asked (the trainer's progress
 * lines, periodic exports and checkpoints). It also gives the rate of a counter (e.g.
 * examples) since the last time it was done. Times are ms from `performance.now()`, passed
 * in, so that it is testable without a clock.
 */

/** Every `seconds` seconds (0 = only when asked), counted from the last `mark`. */
export class Cadence {
  private lastMs: number;
  private lastCountValue: number;

  /** @param seconds the period (0 = never by time); @param nowMs start time, ms; @param count the counter then. */
  constructor(
    readonly seconds: number,
    nowMs: number,
    count = 0,
  ) {
    this.lastMs = nowMs;
    this.lastCountValue = count;
  }

  /** True when asked, or when the period is set and has passed since the last mark. */
  due(nowMs: number, asked = false): boolean {
    return asked || (this.seconds > 0 && nowMs - this.lastMs >= this.seconds * 1000);
  }

  /** Done at `nowMs` (ms) with the counter at `count`. */
  mark(nowMs: number, count = this.lastCountValue): void {
    this.lastMs = nowMs;
    this.lastCountValue = count;
  }

  /** The counter at the last mark. */
  get lastCount(): number {
    return this.lastCountValue;
  }

  /** Counter increase per second since the last mark: (count - lastCount) / elapsed s. */
  rate(nowMs: number, count: number): number {
    return (count - this.lastCountValue) / ((nowMs - this.lastMs) / 1000);
  }
}

/** The cadences of a run: progress lines, periodic exports, periodic checkpoints. */
export interface Clocks {
  progress: Cadence;
  export: Cadence;
  checkpoint: Cadence;
}
