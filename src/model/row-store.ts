/**
 * Row storage of one embedding table, one contiguous block per row so that a sparse
 * optimizer step touches one place in memory per row (random row access is bound by
 * memory latency, not bandwidth):
 *
 *   float32 momentum:  [ w_0 .. w_{W-1} | m_0 .. m_{W-1} | lastStep | updates ]   stride 2W + 2 words
 *   bfloat16 momentum: [ w_0 .. w_{W-1} | m_0 .. m_{W-1} as W halves, updates as half W | lastStep ]
 *                                                                  stride W + ceil((W+1)/2) + 1 words
 *   none (serving):    [ w_0 .. w_{W-1} ]                              stride W words
 *
 * With bfloat16 momentum the update count is a uint16 saturating at 65535, the half after the
 * W momenta (W = 17: the last momentum word's spare half; 27 words, 108 B a row at dim 16, was
 * 28). Nothing decides on the count (eviction reads lastStep); old checkpoints are converted
 * on load (row-blocks.ts).
 *
 * A 'none' store holds weights only (a loaded export that is never trained: 4W bytes a row
 * instead of 4(2W + 2)); setLastStep is a no-op on it and it has no momentum or updates.
 *
 * Chunked arenas: the rows lie in chunks of `chunkRows` rows (a power of two, 2^20 unless
 * a row is so large that a chunk would pass 1 GiB or a typed array's element limit), each
 * chunk its own buffer with three views: `data` (float32 words), `words` (int32 words, for
 * lastStep and updates) and `half` (uint16, for bf16 momentum). Row r is in chunk
 * r >>> shift at word (r & chunkMask) * stride of it (chunk(r), at(r)); a row never
 * straddles chunks. Every chunk but the last is full; growing fills the last one (one copy
 * of at most a chunk) and adds new ones: rows already in full chunks are never copied, and
 * no single ArrayBuffer, typed array or WebAssembly memory bounds the table (10^8 rows and
 * more in one table). lastStep = the last step whose update the row has had; updates = how
 * many optimizer updates it has had.
 *
 * A chunk's buffer is a plain ArrayBuffer until an owner moves it into a WebAssembly.Memory
 * of its own (moveToMemory(); the training kernel does, chunk by chunk,
 * src/train/optim/wasm/wasm-memory.ts): from then on the chunk's rows are at byte 0 of it,
 * the owner may use the bytes after them (reserve()), and its MemoryHost decides whether a
 * grown chunk stays in a memory or goes back to an ArrayBuffer. Tables that no owner asks
 * for (serving) never take one. @module
 */

import { LionctrError } from '../errors.ts';
import {
  chunkShift,
  chunkViews,
  EMPTY_BUF,
  type MemoryHost,
  newChunk,
  type RowChunk,
  reserveChunk,
  resizeChunk,
} from './row-chunk.ts';

export { type MemoryHost, type RowChunk, rowViewLimits } from './row-chunk.ts';

/** Storage of a row's momentum: float32, bfloat16, or none (weights only, for serving). */
export type RowDtype = 'float32' | 'bfloat16' | 'none';

/** One embedding table's row blocks (see the module doc for the layout). */
export class RowStore {
  /** W, floats of weights per row. */
  readonly width: number;
  /** Momentum storage (float32 on a weights-only store, which has none). */
  readonly dtype: 'float32' | 'bfloat16';
  /** True for a 'none' store: weights only (a served table, never trained). */
  readonly weightsOnly: boolean;
  /** Words (4 bytes) per row block. */
  readonly stride: number;
  /** Word offset of the momentum inside a block (float32 index; for bf16, half index = 2 * (block + momOff) + j). */
  readonly momOff: number;
  /** Word offset of lastStep; W (= stride, no such words) for 'none'. */
  readonly metaOff: number;
  /**
   * Where the update count is: float32 momentum, the int32 word after lastStep (metaOff + 1);
   * bfloat16, the uint16 half 2 at(r) + countHalf (saturating at 65535); -1 for 'none'.
   */
  readonly countHalf: number;
  /** log2 of the rows of a full chunk; chunkMask = chunkRows - 1. */
  readonly shift: number;
  readonly chunkRows: number;
  readonly chunkMask: number;
  /** The chunks, in row order: all full but the last. */
  chunks: RowChunk[] = [];
  capacity = 0;
  /** The owner of the chunks' memories (null while no chunk has one). */
  private host: MemoryHost | null = null;

  /**
   * Most rows this store can hold: the id map's limit (2^30 rows, EmbeddingTable), no longer
   * one typed array's (each chunk has its own views).
   */
  get maxRows(): number {
    return 2 ** 30;
  }

  /** Whether the store has a Uint16 view (bfloat16 momentum); the other layouts need none. */
  private get hasHalf(): boolean {
    return this.dtype === 'bfloat16' && !this.weightsOnly;
  }

  /** @param layout momentum storage, or 'none' for weights only (see the module doc). */
  constructor(width: number, capacity: number, layout: RowDtype = 'float32') {
    this.width = width;
    this.dtype = layout === 'bfloat16' ? 'bfloat16' : 'float32';
    this.weightsOnly = layout === 'none';
    this.momOff = width;
    const bf = layout === 'bfloat16';
    this.metaOff = bf ? width + Math.ceil((width + 1) / 2) : layout === 'float32' ? 2 * width : width;
    this.stride = this.weightsOnly ? width : this.metaOff + (bf ? 1 : 2);
    this.countHalf = bf ? 3 * width : -1; // 2 (momOff + W): the half after the W momenta
    this.shift = chunkShift(this.stride, this.hasHalf);
    this.chunkRows = 2 ** this.shift;
    this.chunkMask = this.chunkRows - 1;
    this.grow(capacity);
  }

  /** The chunk of row r. */
  chunk(r: number): RowChunk {
    return this.chunks[r >>> this.shift];
  }

  /** Word offset of row r's block in its chunk (weight j at + j; chunk(r)'s views). */
  at(r: number): number {
    return (r & this.chunkMask) * this.stride;
  }

  /** Float32 words of row r's chunk (index with weightsAt(r) / momentumAt(r)). */
  dataOf(r: number): Float32Array {
    return this.chunks[r >>> this.shift].data;
  }

  /** Int32 words of row r's chunk (lastStep at at(r) + metaOff). */
  wordsOf(r: number): Int32Array {
    return this.chunks[r >>> this.shift].words;
  }

  /** Rows of capacity in chunk c. */
  rowsIn(c: number): number {
    return Math.min(this.chunkRows, this.capacity - c * this.chunkRows);
  }

  /**
   * Grows (or shrinks) to `capacity` rows, keeping the first min(old, new) rows; new rows are
   * zero. Full chunks stay where they are; the last chunk is refilled (one copy of at most a
   * chunk; in a WebAssembly memory it grows in place: what the host kept after its rows is
   * overwritten, and a chunk its host no longer holds goes back to an ArrayBuffer); a new
   * chunk is made in a memory of the host's once some chunk has one (its pages zero until
   * touched: no copy when the kernel binds it), else in an ArrayBuffer.
   * @throws LionctrError LIONCTR_UNAVAILABLE beyond maxRows.
   */
  grow(capacity: number): void {
    if (capacity > this.maxRows) {
      throw new LionctrError('LIONCTR_UNAVAILABLE', `RowStore: ${capacity} rows are over the ${this.maxRows} it holds`);
    }
    const n = capacity === 0 ? 0 : ((capacity - 1) >>> this.shift) + 1;
    this.chunks.length = Math.min(this.chunks.length, n);
    for (let c = 0; c < n; c++) {
      const rows = Math.min(this.chunkRows, capacity - c * this.chunkRows),
        old = this.chunks[c];
      if (!old) this.chunks.push(newChunk(rows, this.stride, this.hasHalf, this.host));
      else if (old.rows !== rows) resizeChunk(old, rows, this.host, this.stride, this.hasHalf);
    }
    this.capacity = capacity;
  }

  /**
   * Moves chunk c's rows into `memory` (made by `host`, at least the chunk's bytes long), rows
   * at byte 0; from then on `host` decides where the chunk's grown rows live (grow()).
   */
  moveToMemory(memory: WebAssembly.Memory, host: MemoryHost, c = 0): void {
    const ch = this.chunks[c],
      old = ch.data;
    ch.memory = memory;
    this.host = host;
    ch.buffer = EMPTY_BUF;
    chunkViews(ch, this.stride, this.hasHalf);
    ch.data.set(old);
  }

  /** Chunk 0's WebAssembly memory (chunks[c].memory for the others), or null. */
  get memory(): WebAssembly.Memory | null {
    return this.chunks[0]?.memory ?? null;
  }

  /**
   * Makes chunk c's memory at least `bytes` long (rows and what the host keeps after them).
   * Refreshes its views (growing a memory detaches the old ones). Returns false when the
   * chunk is in an ArrayBuffer, `bytes` is over the host's maxBytes, or the memory cannot grow.
   */
  reserve(bytes: number, c = 0): boolean {
    const ch = this.chunks[c];
    return !!ch && reserveChunk(ch, this.host, bytes, this.stride, this.hasHalf);
  }

  /** A deep copy of the row blocks, each chunk in an ArrayBuffer of its own (never in a WebAssembly memory). */
  clone(): RowStore {
    const c = Object.create(RowStore.prototype) as RowStore;
    Object.assign(c, this);
    c.host = null;
    c.chunks = this.chunks.map((ch) => {
      const copy: RowChunk = { ...ch, memory: null, buffer: ch.data.slice().buffer }; // same element type: a byte copy
      chunkViews(copy, this.stride, this.hasHalf);
      return copy;
    });
    return c;
  }

  /** The only chunk's float32 words (a store of one chunk: tests and small tables). @throws on several chunks */
  get data(): Float32Array {
    return this.only().data;
  }

  /** The only chunk's int32 words. @throws LionctrError LIONCTR_INTERNAL on several chunks */
  get words(): Int32Array {
    return this.only().words;
  }

  /** The only chunk's uint16 halves. @throws LionctrError LIONCTR_INTERNAL on several chunks */
  get half(): Uint16Array {
    return this.only().half;
  }

  private only(): RowChunk {
    if (this.chunks.length !== 1) {
      throw new LionctrError('LIONCTR_INTERNAL', `RowStore: ${this.chunks.length} chunks, no single view (chunk(r))`);
    }
    return this.chunks[0];
  }

  /** Bytes of the rows (allocated capacity, without the kernel's scratch). */
  get bytes(): number {
    return this.capacity * this.stride * 4;
  }

  /** Copies row r's W weights into out (or a new array). */
  getWeights(r: number, out = new Float32Array(this.width)): Float32Array {
    const o = this.at(r);
    out.set(this.dataOf(r).subarray(o, o + this.width));
    return out;
  }

  /** Sets row r's W weights. */
  setWeights(r: number, values: ArrayLike<number>): void {
    this.dataOf(r).set(values, this.at(r));
  }

  /** Sets row r's last updated step (no-op on a weights-only store). */
  setLastStep(r: number, s: number): void {
    if (!this.weightsOnly) this.wordsOf(r)[this.at(r) + this.metaOff] = s;
  }

  /** Index in dataOf(r) of row r's weight 0 (weight j at + j). */
  weightsAt(r: number): number {
    return this.at(r);
  }

  /** Index in dataOf(r) of row r's float32 momentum of column 0 (column j at + j; float32 momentum only). */
  momentumAt(r: number): number {
    return this.at(r) + this.momOff;
  }

  /** Row r's last updated step (lastStep; not on a weights-only store). */
  lastStep(r: number): number {
    return this.wordsOf(r)[this.at(r) + this.metaOff];
  }

  /** Row r's update count (bfloat16 momentum: saturated at 65535; not on a weights-only store). */
  updates(r: number): number {
    const o = this.at(r);
    return this.countHalf >= 0 ? this.chunk(r).half[2 * o + this.countHalf] : this.wordsOf(r)[o + this.metaOff + 1];
  }

  /** Records an optimizer update of row r at step s: lastStep = s, updates + 1 (saturating with bfloat16). */
  markUpdated(r: number, s: number): void {
    const o = this.at(r),
      w = this.wordsOf(r);
    w[o + this.metaOff] = s;
    if (this.countHalf < 0) w[o + this.metaOff + 1]++;
    else {
      const h = this.chunk(r).half,
        i = 2 * o + this.countHalf;
      if (h[i] !== 0xffff) h[i]++;
    }
  }

  /** Copies row `from`'s whole block onto row `to` (any chunks). */
  copyRow(from: number, to: number): void {
    const o = this.at(from);
    this.wordsOf(to).set(this.wordsOf(from).subarray(o, o + this.stride), this.at(to));
  }

  /** Zeroes row r's whole block. */
  zeroRow(r: number): void {
    const o = this.at(r);
    this.wordsOf(r).fill(0, o, o + this.stride);
  }

  /** [n, W] weights of rows 0..n-1, packed (for exports). */
  packedWeights(n: number): Float32Array {
    const out = new Float32Array(n * this.width);
    for (let r = 0; r < n; r++) out.set(this.dataOf(r).subarray(this.at(r), this.at(r) + this.width), r * this.width);
    return out;
  }
}
