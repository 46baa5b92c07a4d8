/**
 * Which embedding rows changed since the last export (full or delta), per table, for delta
 * exports (src/train/delta-writer.ts; issue 11 "Delta exports"). TrainStep's rowListeners
 * report the [B, F] rows each step is about to update; a table's changed rows are one bit
 * each (a bitset growing with the table: 1.25 MB per 10^7 rows). Rows admitted since the
 * last export are changed too (taken from the table's size, so that a row admitted by a
 * skipped step, which no listener saw, is still written with its initial values).
 *
 * A row removed from its table (EmbeddingTable.remove: eviction) moves the table's last row
 * into its index; the table's removeListeners move the moved row's mark with it, so the sets
 * stay keyed by what the rows hold (the removed id itself goes out as a tombstone, not here).
 *
 * A row's stored weights change only when a step updates it: the sparse modes that catch up
 * idle rows (decayed, exact) do so when the row is next touched, so an untouched row is
 * bit-identical to the one in the last export.
 */
import type { EmbeddingTable } from '../model/embedding-table.ts';
import type { TrainStep } from './train-step.ts';

/** One table's changed rows since the last `clear`. */
export class ChangedRows {
  /** One bit per row index (bit r & 31 of word r >>> 5). */
  private bits = new Uint32Array(0);
  /** Rows marked (each counted once). */
  private marked = 0;
  /** The table's size at the last clear: rows at or above it were admitted since. */
  admittedFrom: number;

  /** @param size the table's rows now (those below it are not changed yet). */
  constructor(size = 0) {
    this.admittedFrom = size;
  }

  /** Marks row `r` (>= 0) as changed. */
  mark(r: number): void {
    const w = r >>> 5;
    if (w >= this.bits.length) this.grow(w + 1);
    const bit = 1 << (r & 31);
    if ((this.bits[w] & bit) === 0) {
      this.bits[w] |= bit;
      this.marked++;
    }
  }

  /** Unmarks row `r`. */
  private unmark(r: number): void {
    const w = r >>> 5,
      bit = 1 << (r & 31);
    if (w < this.bits.length && (this.bits[w] & bit) !== 0) {
      this.bits[w] &= ~bit;
      this.marked--;
    }
  }

  /**
   * Row `row` of the table was removed and its last row `last` moved into it (the table has
   * `last` rows now): `row` is changed when `last` was (marked, or admitted since the last
   * clear), and rows admitted from now on start at min(admittedFrom, last).
   */
  moved(row: number, last: number): void {
    const changed = last >= this.admittedFrom || this.has(last);
    this.unmark(last);
    this.unmark(row);
    this.admittedFrom = Math.min(this.admittedFrom, last);
    if (row !== last && changed) this.mark(row);
  }

  /** Whether row `r` is marked (rows admitted since the last clear are not reported here). */
  has(r: number): boolean {
    const w = r >>> 5;
    return w < this.bits.length && (this.bits[w] & (1 << (r & 31))) !== 0;
  }

  /** Rows marked since the last clear (admitted rows that no step updated not included). */
  get markedCount(): number {
    return this.marked;
  }

  /**
   * The changed rows of a table of `size` rows, ascending: the marked rows below
   * `admittedFrom` and every row in [admittedFrom, size). Cost: one pass over the bits
   * below admittedFrom (10^7 rows: ~0.3 M words) plus the rows listed.
   * @returns [n] int32 row indices.
   */
  list(size: number): Int32Array {
    const from = Math.min(this.admittedFrom, size);
    const out = new Int32Array(this.countBelow(from) + (size - from));
    let n = 0;
    const words = Math.min(this.bits.length, (from + 31) >>> 5);
    for (let w = 0; w < words; w++) {
      let x = this.bits[w];
      while (x !== 0) {
        const low = x & -x;
        const r = (w << 5) + 31 - Math.clz32(low);
        if (r >= from) break;
        out[n++] = r;
        x ^= low;
      }
    }
    for (let r = from; r < size; r++) out[n++] = r;
    return out;
  }

  /** Forgets every mark; rows below `size` (the table's rows now) count as exported. */
  clear(size: number): void {
    this.bits.fill(0);
    this.marked = 0;
    this.admittedFrom = size;
  }

  /** Marked rows below `from`. */
  private countBelow(from: number): number {
    if (from >= this.bits.length * 32) return this.marked;
    let n = 0;
    const words = Math.min(this.bits.length, (from + 31) >>> 5);
    for (let w = 0; w < words; w++) {
      let x = this.bits[w];
      if (w === words - 1 && (from & 31) !== 0) x &= (1 << (from & 31)) - 1;
      n += popcount(x);
    }
    return n;
  }

  private grow(words: number): void {
    const b = new Uint32Array(Math.max(words, this.bits.length * 2, 1024));
    b.set(this.bits);
    this.bits = b;
  }
}

/**
 * The changed rows of every table of a TrainStep's model: listens to the step's rowListeners
 * (one mark per example and slot per step, B x F bit sets).
 */
export class RowChanges {
  /** One per table, in model order. */
  readonly tables: ChangedRows[];
  private readonly models: readonly EmbeddingTable[];

  /** Starts tracking `step` (rows now in its tables count as exported until the first clear). */
  constructor(step: TrainStep) {
    this.models = step.model.tables;
    this.tables = this.models.map((t) => new ChangedRows(t.size));
    for (const [f, t] of this.models.entries()) t.removeListeners.push((row, last) => this.tables[f].moved(row, last));
    step.rowListeners.push((rowIdx, F) => this.record(rowIdx, F));
  }

  /**
   * Marks the rows of one step: rowIdx [B * F], row of example b in table f at b * F + f
   * (negative entries skipped).
   */
  record(rowIdx: Int32Array, F: number): void {
    for (let f = 0; f < F; f++) {
      const t = this.tables[f];
      for (let i = f; i < rowIdx.length; i += F) if (rowIdx[i] >= 0) t.mark(rowIdx[i]);
    }
  }

  /** Changed rows per table, in model order (ChangedRows.list at each table's size now). */
  list(): Int32Array[] {
    return this.tables.map((c, f) => c.list(this.models[f].size));
  }

  /** Whether any row changed or was admitted since the last clear. */
  get any(): boolean {
    return this.tables.some((c, f) => c.markedCount > 0 || this.models[f].size > c.admittedFrom);
  }

  /** After an export (full or delta) of the tables as they are now: nothing has changed since. */
  clear(): void {
    for (const [f, c] of this.tables.entries()) c.clear(this.models[f].size);
  }
}

/** Bits set in a 32-bit word. */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}
