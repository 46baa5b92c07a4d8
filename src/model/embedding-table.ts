import { LionctrError } from '../errors.ts';
export { MAX_LOAD, mapCapFor, nextPow2 } from './id-map-size.ts';
import { BATCH_FROM_ENTRIES, findBatch } from './id-map-batch.ts';
import { deleteEntry } from './id-map-delete.ts';
import { fillIdMap } from './id-map-fill.ts';
import { findOld, MOVES_PER_ADMIT, moveEntries, type OldIdMap, unmoved } from './id-map-move.ts';
import { MAX_LOAD, mapCapFor } from './id-map-size.ts';
import { grownCapacity, growIds, MAX_IDS, newIds } from './row-ids.ts';
import { initRow } from './row-init.ts';
import { RowStore, type RowDtype } from './row-store.ts';

/**
 * One slot's embedding table: a map from 64-bit feature id (hi, lo) to a row, and the rows
 * (in chunks, RowStore). A row is W = D + 1 float32s: column 0 the slot's linear ("wide") weight
 * of the feature, columns 1..D its embedding. Rows are admitted on first sight while training.
 *
 * The id map is open addressing with linear probing over one Uint32Array (ids are XXH64-uniform:
 * the low bits index directly), 4 B an entry, sized by the rows in use: it doubles when a row
 * would take it past MAX_LOAD (0.75) full (id-map-size.ts), 5.4-10.7 B a row. An entry packs the
 * row index with a tag of the id's top bits, so a probe past another id rarely reads its row.
 * Where an id sits in the map never shows outside find(): rows are numbered in admission order
 * (test/unit/model/map-capacity.test.ts trains the same bit for bit whatever the map's size).
 */
export class EmbeddingTable {
  readonly slot: string;
  /** D, embedding dim (without the linear column). */
  readonly dim: number;
  /** W = D + 1 floats per row. */
  readonly width: number;
  /** Init std of embedding columns (linear column starts at 0). */
  readonly initStd: number;
  /** Rows in use. */
  size = 0;
  /**
   * Most rows of capacity the table may grow to (the memory budget's, row-budget.ts; unbounded by
   * default). Full at it, or at rows.maxRows (the id map's 2^30), findOrAdmit returns -1 for a new id.
   */
  maxCapacity = Number.POSITIVE_INFINITY;
  /** Row values + momentum + bookkeeping; a row admitted at step t starts with lastStep t - 1. */
  rows: RowStore;
  /** The current training step, set by the trainer before admitting rows (0 when serving). */
  clock = 0;
  /** [2 capacity] row r's 64-bit feature id: high word at 2r, low at 2r + 1 (one cache line for a hit; idHi). */
  ids: Uint32Array;
  /**
   * Called by remove() before anything moves with the removed id's row `row` and the last row `last`,
   * which then moves into `row` (none when equal): holders of row indices (the publish gate's
   * snapshot) follow it here. Not copied by clone(). */
  readonly removeListeners: ((row: number, last: number) => void)[] = [];
  /**
   * [mapCap] the id map: 0 = empty, else (the id's hi & tagMask) | (row + 1). The low log2(mapCap)
   * bits hold row + 1 (rows < MAX_LOAD mapCap), the bits above them the top bits of the
   * id's hi word as a tag, so that a probe reads the row's id (ids) only on a tag match.
   */
  private map: Uint32Array;
  /** The map being replaced after a doubling, its entries moving into `map` (null: none). */
  private old: OldIdMap | null = null;
  private mask: number;
  /** mapCap - 1 as the row + 1 field of an entry, and its complement (the tag bits). */
  private rowMask: number;
  private tagMask: number;

  /**
   * @param opts.initialCapacity rows allocated up front (then grownCapacity, row-ids.ts); a loaded export
   *   passes its row count, so that its rows take no spare capacity.
   * @param opts.momentumDtype storage of the momentum: float32 (default), bfloat16, or none
   *   (weights only: a served table, never trained; see RowStore).
   */
  constructor(
    slot: string,
    dim: number,
    opts: { initStd?: number; initialCapacity?: number; momentumDtype?: RowDtype } = {},
  ) {
    this.slot = slot;
    this.dim = dim;
    this.width = dim + 1;
    this.initStd = opts.initStd ?? 0.01;
    const cap = Math.max(16, opts.initialCapacity ?? 1024);
    this.rows = new RowStore(this.width, cap, opts.momentumDtype ?? 'float32');
    this.ids = newIds(2 * cap, 2 * MAX_IDS);
    this.map = new Uint32Array(0);
    this.mask = this.rowMask = this.tagMask = 0;
    this.newMap(mapCapFor(cap));
  }

  /** Row capacity before the next growth. */
  get capacity(): number {
    return this.rows.capacity;
  }

  /** Bytes held by rows, momentum and bookkeeping (allocated, not just used). */
  get bytes(): number {
    return this.rows.bytes + this.ids.byteLength + this.map.byteLength + (this.old?.map.byteLength ?? 0);
  }

  /** The high word of row r's id (r < size). */
  idHi(r: number): number {
    return this.ids[2 * r];
  }

  /** The low word of row r's id (r < size). */
  idLo(r: number): number {
    return this.ids[2 * r + 1];
  }

  /** Row index of id (hi, lo), or -1 when absent (while an old map empties, see id-map-move.ts). */
  find(hi: number, lo: number): number {
    let old = this.old;
    if (old !== null && unmoved(old, hi, lo)) {
      // not moved yet: in the old map if anywhere but among the ids admitted since
      const r = findOld(old, hi, lo, this.ids);
      if (r >= 0) return r;
      old = null;
    }
    const map = this.map,
      mask = this.mask,
      tagMask = this.tagMask;
    let p = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
    for (;;) {
      const e = map[p];
      if (e === 0) return old ? findOld(old, hi, lo, this.ids) : -1;
      if (((e ^ hi) & tagMask) === 0) {
        const r = (e & this.rowMask) - 1;
        if (this.ids[2 * r + 1] === lo && this.ids[2 * r] === hi) return r;
      }
      p = (p + 1) & mask;
    }
  }

  /** out[k] = find(idHi[k], idLo[k]), k = from, from + step, ... < end, found in passes (id-map-batch.ts). */
  findMany(idHi: Uint32Array, idLo: Uint32Array, from: number, end: number, step: number, out: Int32Array): void {
    if (this.old !== null || this.mask < BATCH_FROM_ENTRIES - 1)
      for (let k = from; k < end; k += step) out[k] = this.find(idHi[k], idLo[k]);
    else findBatch(this.map, this.mask, this.tagMask, this.ids, idHi, idLo, from, end, step, out, this);
  }

  /**
   * Row index of id (hi, lo), admitting a new row (deterministic init from the id) when absent;
   * -1 when absent and the table is full at maxCapacity.
   */
  findOrAdmit(hi: number, lo: number): number {
    return this.admit(hi, lo, true);
  }

  /** Row index of id (hi, lo), admitting a new row (initialized when `init`, else zero) when absent. */
  private admit(hi: number, lo: number, init: boolean): number {
    let p = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const e = this.map[p];
      if (e === 0) break;
      if (((e ^ hi) & this.tagMask) === 0) {
        const r = (e & this.rowMask) - 1;
        if (this.ids[2 * r + 1] === lo && this.ids[2 * r] === hi) return r;
      }
      p = (p + 1) & this.mask;
    }
    if (this.old) {
      const r = findOld(this.old, hi, lo, this.ids);
      if (r >= 0) return r;
    }
    if (this.size >= this.capacity) {
      if (this.capacity >= Math.min(this.maxCapacity, this.rows.maxRows)) return -1;
      this.resize(Math.min(grownCapacity(this.capacity), this.maxCapacity, this.rows.maxRows));
      return this.admit(hi, lo, init);
    }
    if (this.size >= MAX_LOAD * (this.mask + 1)) {
      this.growMap(2 * (this.mask + 1));
      return this.admit(hi, lo, init);
    }
    const row = this.size++;
    this.map[p] = this.entry(hi, row);
    this.ids[2 * row] = hi;
    this.ids[2 * row + 1] = lo;
    this.rows.setLastStep(row, this.clock - 1);
    if (init) initRow(this.rows, row, hi, lo, this.initStd);
    const old = this.old;
    if (old && moveEntries(old, MOVES_PER_ADMIT, this.map, this.mask, this.tagMask, this.ids)) this.old = null;
    return row;
  }

  /** Inserts a row with the W floats `values` (used when loading exports and checkpoints). */
  put(hi: number, lo: number, values: ArrayLike<number>): number {
    const row = this.admit(hi, lo, false);
    if (row < 0) throw new LionctrError('LIONCTR_INTERNAL', `table "${this.slot}" is full at ${this.capacity} rows`);
    this.rows.setWeights(row, values);
    return row;
  }

  /**
   * Removes the row of id (hi, lo) (a tombstone of a delta export); false when absent. The last row
   * moves into the freed index (rows stay 0..size-1: a row index held across a remove is stale;
   * training never removes); later map entries shift back (linear-probing deletion); the vacated
   * last block is zeroed (a row admitted there later has no stale momentum or counts).
   */
  remove(hi: number, lo: number): boolean {
    this.settleMap();
    const row = this.find(hi, lo);
    if (row === -1) return false;
    let p = this.home(hi, lo);
    while ((this.map[p] & this.rowMask) !== row + 1) p = (p + 1) & this.mask;
    for (const l of this.removeListeners) l(row, this.size - 1);
    deleteEntry(this.map, this.mask, this.ids, p);
    const last = --this.size;
    if (row !== last) {
      this.rows.copyRow(last, row);
      this.ids.copyWithin(2 * row, 2 * last, 2 * last + 2);
      let q = this.home(this.idHi(row), this.idLo(row));
      while ((this.map[q] & this.rowMask) !== last + 1) q = (q + 1) & this.mask;
      this.map[q] = this.entry(this.idHi(row), row);
    }
    this.rows.zeroRow(last); // the next row admitted there starts from zeros
    return true;
  }

  /**
   * A deep copy of the table (ids, map and row blocks, rows in an ArrayBuffer of their own):
   * serving applies a delta to a copy while requests still read the original.
   */
  clone(): EmbeddingTable {
    this.settleMap();
    const c = Object.create(EmbeddingTable.prototype) as EmbeddingTable;
    Object.assign(c, this, { removeListeners: [] });
    c.rows = this.rows.clone();
    c.ids = this.ids.slice();
    c.map = this.map.slice();
    return c;
  }

  /** Grows the capacity to `cap` rows (no-op when it is already that large). */
  growTo(cap: number): void {
    if (cap > this.capacity) this.resize(cap);
  }

  /** Capacity and id map for `rows` rows in use: neither grows until then (rows, ids and find() answers as before). */
  presize(rows: number): void {
    this.growTo(rows);
    if (mapCapFor(rows) > this.mask + 1) this.growMap(mapCapFor(rows));
  }

  /**
   * Makes room for `rows` rows in all, growing to `rows` plus an eighth when they do not fit (a
   * served table is loaded at exactly its row count: a delta's new rows then cost one copy of
   * the rows, not a doubling; the id map grows with the rows in use).
   */
  reserve(rows: number): void {
    if (rows > this.capacity) this.resize(rows + (rows >> 3));
  }

  /** Map position where the probe for id (hi, lo) starts. */
  private home(hi: number, lo: number): number {
    return (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
  }

  /** Grows to `cap` >= size rows in place (row-ids.ts; the map grows with the rows in use, in admit()). */
  private resize(cap: number): void {
    this.rows.grow(cap);
    this.ids = growIds(this.ids, 2 * cap);
  }

  /** Replaces the id map with one of `mapCap` entries, its entries moved at once or with the next admissions. */
  private growMap(mapCap: number): void {
    this.settleMap();
    if (this.size >= 1 << 16) {
      // the old map's entries move into the new one with the next admissions (id-map-move.ts)
      this.old = { map: this.map, mask: this.mask, rowMask: this.rowMask, tagMask: this.tagMask, at: 0 };
      this.newMap(mapCap);
      return;
    }
    this.newMap(mapCap);
    fillIdMap(this.map, this.mask, this.tagMask, this.ids, this.size);
  }

  /** Moves what is left of an old id map into the map (a remove or a clone needs one map). */
  private settleMap(): void {
    if (this.old) moveEntries(this.old, Infinity, this.map, this.mask, this.tagMask, this.ids);
    this.old = null;
  }

  /**
   * An empty id map of `mapCap` entries (a power of two, above the rows in use / MAX_LOAD).
   * @throws LionctrError LIONCTR_UNAVAILABLE beyond 2^31 entries (2^30 rows in one table): the
   *   row + 1 field and the tag share one 32-bit word.
   */
  private newMap(mapCap: number): void {
    if (mapCap > 2 ** 31) {
      throw new LionctrError('LIONCTR_UNAVAILABLE', `table "${this.slot}": more than 2^30 rows in one table`);
    }
    this.map = new Uint32Array(mapCap);
    this.mask = mapCap - 1;
    this.rowMask = mapCap - 1;
    this.tagMask = ~this.rowMask;
  }

  /** The map entry of row `row` of an id whose hi word is `hi`: tag bits | (row + 1). */
  private entry(hi: number, row: number): number {
    return ((hi & this.tagMask) | (row + 1)) >>> 0;
  }
}
