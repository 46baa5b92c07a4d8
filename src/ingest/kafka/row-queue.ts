/**
 * The Kafka source's queue of decoded rows waiting for training, in fetch order, with
 * backpressure: above `maxRows` queued rows it asks the consumer to pause fetching, and
 * once taking brings it to half or below, to resume (kafkajs heartbeats on its own timer,
 * so a paused consumer keeps its group membership). No broker: pause and resume are callbacks.
 */
import type { DecodedRow } from '../source.ts';

/** A queued row: partition `p`, offset `o`, the row, and when it was queued (`at`, ms since the epoch). */
export interface QueuedRow {
  p: number;
  o: number;
  row: DecodedRow;
  at: number;
}

/** Flow control of the consumer (kafkajs `consumer.pause` / `consumer.resume` of the topic). */
export interface FetchFlow {
  pause(): void;
  resume(): void;
}

/** A FIFO of rows with backpressure (see the module doc). */
export class RowQueue {
  private items: QueuedRow[] = [];
  private head = 0;
  private lastTaken: QueuedRow[] = [];
  private paused = false;
  /** Times fetching was paused for backpressure, cumulative. */
  pauses = 0;
  /** Rows pushed, cumulative. */
  received = 0;

  /** @param maxRows queued rows above which fetching pauses (`kafka.queueMaxRows`). */
  constructor(
    private readonly maxRows: number,
    private readonly flow: FetchFlow,
  ) {}

  /** Rows queued now. */
  get size(): number {
    return this.items.length - this.head;
  }
  /** When the oldest queued row was queued (ms since the epoch); undefined when empty. */
  oldestAt(): number | undefined {
    return this.size > 0 ? this.items[this.head].at : undefined;
  }

  /** Appends rows (in offset order per partition); pauses fetching when over maxRows. */
  push(rows: readonly QueuedRow[]): void {
    for (const r of rows) this.items.push(r);
    this.received += rows.length;
    if (!this.paused && this.size > this.maxRows) {
      this.flow.pause();
      this.paused = true;
      this.pauses++;
    }
  }

  /**
   * `n` (1 <= n <= size) grown to the end of the n-th oldest row's message: the rows after it
   * of the same partition and offset (kafka.format=arrow: one message, many rows) are counted
   * too, so that a take never splits a message.
   */
  wholeMessages(n: number): number {
    const last = this.items[this.head + n - 1];
    let end = this.head + n;
    while (end < this.items.length && this.items[end].p === last.p && this.items[end].o === last.o) end++;
    return end - this.head;
  }

  /**
   * Takes the `n` oldest rows (n <= size); resumes fetching when at most maxRows / 2 are
   * left. They are remembered until the next take() for untrained().
   */
  take(n: number): QueuedRow[] {
    const taken = this.items.slice(this.head, this.head + n);
    this.head += taken.length;
    this.lastTaken = taken;
    if (this.head > 65536 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.paused && this.size <= this.maxRows / 2) {
      this.flow.resume();
      this.paused = false;
    }
    return taken;
  }

  /**
   * The last `n` rows of the last take() go back to the head of the queue, in order (a
   * train.maxExamples cut: they are not trained, nor committable).
   * @returns per partition, the offset of its first row put back.
   */
  untrained(n: number): Map<number, number> {
    const back = this.lastTaken.slice(this.lastTaken.length - n);
    this.items = [...back, ...this.items.slice(this.head)];
    this.head = 0;
    this.lastTaken = [];
    return firstPerPartition(back);
  }

  /** Drops the queued rows of partition p (revoked, or its topic recreated); returns how many. */
  drop(p: number): number {
    const keep = this.items.slice(this.head).filter((q) => q.p !== p);
    const dropped = this.size - keep.length;
    this.items = keep;
    this.head = 0;
    return dropped;
  }

  /** Per partition, the offset of its oldest queued (untrained) row. */
  firstQueued(): Map<number, number> {
    return firstPerPartition(this.items, this.head);
  }
}

function firstPerPartition(rows: readonly QueuedRow[], from = 0): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = from; i < rows.length; i++) if (!m.has(rows[i].p)) m.set(rows[i].p, rows[i].o);
  return m;
}
