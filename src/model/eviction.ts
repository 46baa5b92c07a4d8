/**
 * TTL eviction of embedding rows (config `model.eviction.*`): each row's last-seen event time,
 * an event-time clock, and the sweep that removes the rows not seen for `ttlSeconds`. @module
 */
import type { EmbeddingTable } from './embedding-table.ts';
import { growIds, newIds } from './row-ids.ts';

/** Settings of `model.eviction` (see src/model/config.ts). */
export interface EvictionConfig {
  /** Rows not seen for this many seconds of event time are removed; 0 = never (off). */
  ttlSeconds: number;
  /** Event-time seconds between two sweeps; 0 = ttlSeconds / 10 (at least 1). */
  sweepSeconds: number;
}

/** Eviction off. */
export const NO_EVICTION: EvictionConfig = { ttlSeconds: 0, sweepSeconds: 0 };

/**
 * Last-seen times and TTL sweeps of a model's tables. The clock is the newest event time of
 * the batches trained (whole seconds; batches without event times do not move it, and while
 * it is unknown nothing is swept). A row's last-seen time is the clock of the last batch that
 * looked it up while training: 4 bytes a row of capacity (uint32 seconds since the epoch).
 * A sweep visits every row (O(rows)) and removes the expired ones with EmbeddingTable.remove
 * (the last row moves into the freed index, its time with it); `onEvict` hears each removed
 * id (the trainer records it as a tombstone of the next delta export). Everything depends on
 * the stream only, so a replay evicts the same rows; the times and the clock are checkpointed.
 */
export class Eviction {
  readonly ttlSeconds: number;
  readonly sweepSeconds: number;
  /** Newest event time trained, whole seconds since the epoch; -1 while unknown. */
  nowSec = -1;
  /** Clock at the last sweep (or when the clock became known); -1 while unknown. */
  lastSweepSec = -1;
  /** Per table: [capacity] last-seen seconds of each row. */
  lastSeen: Uint32Array[];
  /** Per table: rows evicted since the model was made. */
  readonly evicted: number[];
  /** Called with each evicted id, after its row is removed. */
  readonly onEvict: ((slot: string, hi: number, lo: number) => void)[] = [];

  constructor(
    private readonly tables: EmbeddingTable[],
    cfg: EvictionConfig,
  ) {
    this.ttlSeconds = cfg.ttlSeconds;
    this.sweepSeconds = cfg.sweepSeconds || Math.max(1, Math.floor(cfg.ttlSeconds / 10));
    this.lastSeen = tables.map(() => new Uint32Array(0));
    this.evicted = tables.map(() => 0);
  }

  /** True when rows expire (ttlSeconds > 0). */
  get active(): boolean {
    return this.ttlSeconds > 0;
  }

  /** Bytes of table f's last-seen times. */
  bytes(f: number): number {
    return this.lastSeen[f].byteLength;
  }

  /**
   * Before a training batch's lookups: moves the clock to the batch's newest event time and
   * sweeps when sweepSeconds have passed since the last sweep.
   * @param eventTimeMs [B] event times in ms since the epoch, NaN where unknown.
   */
  beforeBatch(eventTimeMs: Float64Array, B: number): void {
    let t = -1;
    for (let b = 0; b < B; b++) if (eventTimeMs[b] > t) t = eventTimeMs[b];
    if (t < 0) return;
    const sec = Math.floor(t / 1000);
    if (this.nowSec < 0) {
      // rows looked up before any event time was known count as seen now
      this.nowSec = this.lastSweepSec = sec;
      for (const [f, tb] of this.tables.entries()) this.lastSeen[f].fill(sec, 0, tb.size);
      return;
    }
    if (sec > this.nowSec) this.nowSec = sec;
    if (this.nowSec - this.lastSweepSec >= this.sweepSeconds) this.sweep();
  }

  /**
   * Stamps table f's rows of a gathered batch with the clock (rows -1 skipped).
   * @param rowIdx [B, F] rows of the batch; F slots per example.
   */
  touch(f: number, rowIdx: Int32Array, F: number): void {
    const t = this.tables[f];
    let ls = this.lastSeen[f];
    // grown in place as the table's ids (row-ids.ts): tables past 2^16 rows grow by a 64th, and a copy
    // of every row's time at each growth would cost a 10^8-row table 400 MB of copying a 64th
    if (ls.length < t.capacity) ls = this.lastSeen[f] = growIds(ls, t.capacity);
    const now = Math.max(0, this.nowSec);
    for (let k = f; k < rowIdx.length; k += F) if (rowIdx[k] >= 0) ls[rowIdx[k]] = now;
  }

  /** Removes every row last seen more than ttlSeconds before the clock; returns the rows removed. */
  sweep(): number {
    this.lastSweepSec = this.nowSec;
    let n = 0;
    this.tables.forEach((t, f) => {
      const ls = this.lastSeen[f];
      // downwards: the row that moves into a freed index is the last one, already visited
      for (let r = t.size - 1; r >= 0; r--) {
        if (this.nowSec - ls[r] <= this.ttlSeconds) continue;
        this.removeRow(f, r);
        n++;
      }
    });
    return n;
  }

  /**
   * Evicts row r of table f (a TTL sweep's or the memory budget's, src/model/row-budget.ts): the
   * table's last row moves into r (its last-seen time with it), the freed block is zeroed, the
   * eviction is counted and `onEvict` hears the id. A caller visiting rows must go downwards.
   */
  removeRow(f: number, r: number): void {
    const t = this.tables[f],
      ls = this.lastSeen[f];
    const hi = t.idHi(r),
      lo = t.idLo(r),
      last = t.size - 1;
    t.remove(hi, lo);
    if (ls.length > last) ls[r] = ls[last];
    // the freed block (the last row's old place) to zeros: the row admitted there next
    // starts with zero momentum and update count, as in a fresh table (and after a resume)
    t.rows.zeroRow(last);
    this.evicted[f]++;
    for (const l of this.onEvict) l(t.slot, hi, lo);
  }

  /** Sets the clock and table f's times of rows 0..times.length-1 (a checkpoint's). */
  restore(clock: { nowSec: number; lastSweepSec: number }, times: (Uint32Array | undefined)[]): void {
    this.nowSec = clock.nowSec;
    this.lastSweepSec = clock.lastSweepSec;
    times.forEach((ts, f) => {
      const g = newIds(Math.max(this.tables[f].capacity, ts?.length ?? 0));
      if (ts) g.set(ts);
      this.lastSeen[f] = g;
    });
  }
}
