/**
 * The embedding store's memory budget (config `model.memoryBudgetBytes`, whole model, and
 * `model.maxRowsPerTable`): tables grow only while their bytes fit, and a table that may not
 * grow recycles its least recently updated rows (LRU on each row's lastStep). @module
 */
import type { AdmissionGate } from './admission.ts';
import { mapCapFor, type EmbeddingTable } from './embedding-table.ts';
import type { Eviction } from './eviction.ts';

/** Settings of the budget (src/model/config.ts); 0 = no bound. */
export interface BudgetConfig {
  /** Bytes of all tables together (rows, momentum, ids, id map, last-seen times, sketches); 0 = none. */
  memoryBudgetBytes: number;
  /** Rows of capacity of any one table; 0 = none. */
  maxRowsPerTable: number;
}

/** No budget. */
export const NO_BUDGET: BudgetConfig = { memoryBudgetBytes: 0, maxRowsPerTable: 0 };

/**
 * Before each training batch (B examples, so at most B new ids per table) every table gets room
 * for B new rows: it grows (doubling, at least to size + B) as far as the budget allows, counting
 * the other tables at the capacity they hold (a table's rows may live in a WebAssembly memory,
 * which never shrinks, so capacity once taken is never handed to another table); a table that
 * cannot grow to size + B evicts its rows with the oldest lastStep (the last step that updated
 * them; ties: the highest row indices) down to capacity - B - capacity / 16 (the sixteenth
 * spares an eviction at every batch), and never more than half its rows at once. While the
 * batch runs the table may not grow past that capacity: a new id that finds it full reads as
 * a zero row, is not stored, and is counted in `refused`. Evicted ids go through
 * Eviction.removeRow (counted, tombstones of the next delta). Everything depends on the
 * stream and the row state only, so a replay or a resumed run evicts the same rows.
 *
 * Bytes of table f at capacity n: n * (4 * stride + 8 ids + 4 last-seen when TTL is on) +
 * 4 * mapCapFor(n) (the id map) — EmbeddingTable.bytes plus the last-seen times; the
 * admission sketches are fixed and come off the budget first.
 */
export class RowBudget {
  readonly budgetBytes: number;
  readonly maxRows: number;
  /** Per table: new ids refused a row because the table was full at its capacity. */
  readonly refused: number[];

  /** @throws RangeError when a setting is negative or not an integer (config validates first). */
  constructor(
    private readonly tables: EmbeddingTable[],
    private readonly eviction: Eviction,
    private readonly gates: AdmissionGate[],
    cfg: BudgetConfig,
  ) {
    for (const [k, v] of Object.entries(cfg)) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`model.${k} must be an integer >= 0, got ${v}`);
    }
    this.budgetBytes = cfg.memoryBudgetBytes || Number.POSITIVE_INFINITY;
    this.maxRows = cfg.maxRowsPerTable || Number.POSITIVE_INFINITY;
    this.refused = tables.map(() => 0);
  }

  /** True when either bound is set. */
  get active(): boolean {
    return Number.isFinite(this.budgetBytes) || Number.isFinite(this.maxRows);
  }

  /** Bytes table f holds at a capacity of n rows (see the class doc). */
  bytesAt(f: number, n: number): number {
    const perRow = 4 * this.tables[f].rows.stride + 8 + (this.eviction.active ? 4 : 0);
    return n * perRow + 4 * mapCapFor(n);
  }

  /** Bytes counted against the budget now: every table at its capacity, plus the sketches. */
  heldBytes(): number {
    let b = 0;
    for (let f = 0; f < this.tables.length; f++) b += this.bytesAt(f, this.tables[f].capacity) + this.gates[f].bytes;
    return b;
  }

  /** Makes room for a batch of B examples (see the class doc); returns the rows evicted. */
  beforeBatch(B: number): number {
    if (!this.active) return 0;
    let evicted = 0;
    for (let f = 0; f < this.tables.length; f++) {
      const t = this.tables[f],
        need = t.size + B;
      if (need > t.capacity) {
        const room = this.budgetBytes - (this.heldBytes() - this.bytesAt(f, t.capacity));
        const limit = Math.min(this.maxRows, this.rowsWithin(f, room));
        const cap = Math.min(Math.max(need, 2 * t.capacity), limit);
        if (cap > t.capacity) t.growTo(cap);
      }
      t.maxCapacity = t.capacity;
      if (t.size + B > t.capacity) {
        const target = Math.max(t.capacity - B - (t.capacity >> 4), t.size >> 1);
        evicted += this.evictOldest(f, t.size - target);
      }
    }
    return evicted;
  }

  /** Largest capacity n of table f with bytesAt(f, n) <= bytes (0 when none). */
  private rowsWithin(f: number, bytes: number): number {
    if (!Number.isFinite(bytes)) return Number.POSITIVE_INFINITY;
    let lo = 0,
      hi = Math.max(1, Math.floor(bytes / (4 * this.tables[f].rows.stride)));
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (this.bytesAt(f, mid) <= bytes) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Evicts the `count` rows of table f with the oldest lastStep; returns how many it evicted. */
  private evictOldest(f: number, count: number): number {
    const t = this.tables[f];
    if (count <= 0 || t.size === 0) return 0;
    const rows = t.rows;
    const steps = new Int32Array(t.size);
    for (let r = 0; r < t.size; r++) steps[r] = rows.lastStep(r);
    const k = Math.min(count, t.size);
    const thr = kthSmallest(steps, k - 1);
    // rows strictly older than thr go; rows at thr go until k are gone (highest indices first)
    let atThr = k;
    for (let r = 0; r < t.size; r++) if (rows.lastStep(r) < thr) atThr--;
    let n = 0;
    for (let r = t.size - 1; r >= 0; r--) {
      const s = rows.lastStep(r);
      if (s < thr || (s === thr && atThr-- > 0)) {
        this.eviction.removeRow(f, r);
        n++;
      }
    }
    return n;
  }
}

/** The k-th smallest value of `a` (0-based; a is reordered): Hoare's quickselect, O(n) expected. */
export function kthSmallest(a: Int32Array, k: number): number {
  let lo = 0,
    hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo,
      j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const x = a[i];
        a[i] = a[j];
        a[j] = x;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}
