/**
 * Row storage of one embedding table. A row has W weights and, when trained, a state (its
 * momentum and bookkeeping); its *block* is the two side by side, the form checkpoints, the
 * Redis row store and RowAccess exchange:
 *
 *   float32 momentum:  [ w_0 .. w_{W-1} | m_0 .. m_{W-1} | lastStep | updates ]   stride 2W + 2 words
 *   bfloat16 momentum: [ w_0 .. w_{W-1} | m_0 .. m_{W-1} as W halves, updates as half W | lastStep ]
 *                                                                  stride W + ceil((W+1)/2) + 1 words
 *   none (serving):    [ w_0 .. w_{W-1} ]                              stride W words
 *
 * In memory the rows lie in groups of `group` rows (16, fewer only in a chunk of fewer rows):
 * a group holds its rows' weights packed ([group, W] words), then their states ([group,
 * stride - W] words). The forward gather (row-gather.ts) reads weights only, so it touches
 * ~4W bytes a row (one or two cache lines of weights alone) instead of a whole block, and a
 * table's weights are a smaller working set; the sparse step reads and writes both parts.
 * at(r) is where row r's weights start, stateAt(r) its state (momentum at 0, lastStep at
 * metaIn, the update count at countIn: see the fields).
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
 * r >>> shift (chunk(r)), at words at(r) / stateAt(r) of it; a row never straddles chunks, a
 * chunk holds whole groups (the last one padded). Every chunk but the last is full; growing
 * fills the last one (one copy of at most a chunk) and adds new ones: rows already in full
 * chunks are never copied, and no single ArrayBuffer, typed array or WebAssembly memory bounds
 * the table (10^8 rows and more in one table). lastStep = the last step whose update the row
 * has had; updates = how many optimizer updates it has had.
 *
 * A chunk's buffer is a plain ArrayBuffer until an owner moves it into a WebAssembly.Memory
 * of its own (moveToMemory(); the training kernel does, chunk by chunk,
 * src/train/optim/wasm/wasm-memory.ts): from then on the chunk's rows are at byte 0 of it
 * (chunkBytes(c) of them), the owner may use the bytes after them (reserve()), and its
 * MemoryHost decides whether a grown chunk stays in a memory or goes back to an ArrayBuffer.
 * Tables that no owner asks for (serving) never take one. @module
 */

import { LionctrError } from '../errors.ts';
import {
  chunkShift,
  chunkViews,
  chunkWords,
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

/** Most rows of a group (weights of the group's rows packed, then their states). */
const GROUP_LOG2 = 4;

/** One embedding table's rows (see the module doc for the layout). */
export class RowStore {
  /** W, floats of weights per row. */
  readonly width: number;
  /** Momentum storage (float32 on a weights-only store, which has none). */
  readonly dtype: 'float32' | 'bfloat16';
  /** True for a 'none' store: weights only (a served table, never trained). */
  readonly weightsOnly: boolean;
  /** Words (4 bytes) per row block (weights and state). */
  readonly stride: number;
  /** Words of a row's state (stride - W; 0 for 'none'). */
  readonly stateWords: number;
  /** Word offset of lastStep in a row's state (from stateAt(r)); -1 for 'none'. */
  readonly metaIn: number;
  /**
   * Where the update count is, from stateAt(r): float32 momentum, the int32 word after lastStep
   * (word metaIn + 1); bfloat16, the uint16 half 2 stateAt(r) + countIn (saturating at 65535;
   * countIn = W, the half after the momenta); -1 otherwise.
   */
  readonly countIn: number;
  /** Word offset of lastStep in a row block (W + metaIn; W for 'none'). */
  readonly blockMetaOff: number;
  /** Half offset of the bf16 update count in a row block (2W + countIn), -1 without one. */
  readonly blockCountHalf: number;
  /** log2 of the rows of a group; group = its rows, groupMask = group - 1. */
  readonly groupShift: number;
  readonly group: number;
  readonly groupMask: number;
  /** Words of a group (group * stride); its states start at word group * W of it. */
  readonly groupWords: number;
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
    const bf = layout === 'bfloat16';
    this.metaIn = bf ? Math.ceil((width + 1) / 2) : layout === 'float32' ? width : -1;
    this.stateWords = this.weightsOnly ? 0 : this.metaIn + (bf ? 1 : 2);
    this.stride = width + this.stateWords;
    this.blockMetaOff = this.weightsOnly ? width : width + this.metaIn;
    this.countIn = bf ? width : -1;
    this.blockCountHalf = bf ? 2 * width + width : -1;
    this.shift = chunkShift(this.stride, this.hasHalf);
    this.chunkRows = 2 ** this.shift;
    this.chunkMask = this.chunkRows - 1;
    this.groupShift = Math.min(GROUP_LOG2, this.shift);
    this.group = 2 ** this.groupShift;
    this.groupMask = this.group - 1;
    this.groupWords = this.group * this.stride;
    this.grow(capacity);
  }

  /** The chunk of row r. */
  chunk(r: number): RowChunk {
    return this.chunks[r >>> this.shift];
  }

  /** Word offset of row r's weights in its chunk (weight j at + j; chunk(r)'s views). */
  at(r: number): number {
    const l = r & this.chunkMask;
    return (l >>> this.groupShift) * this.groupWords + (l & this.groupMask) * this.width;
  }

  /** Word offset of row r's state in its chunk (momentum at 0, lastStep at metaIn; 'none': none). */
  stateAt(r: number): number {
    const l = r & this.chunkMask;
    return (l >>> this.groupShift) * this.groupWords + this.group * this.width + (l & this.groupMask) * this.stateWords;
  }

  /** Float32 words of row r's chunk (index with weightsAt(r) / momentumAt(r)). */
  dataOf(r: number): Float32Array {
    return this.chunks[r >>> this.shift].data;
  }

  /** Int32 words of row r's chunk (lastStep at stateAt(r) + metaIn). */
  wordsOf(r: number): Int32Array {
    return this.chunks[r >>> this.shift].words;
  }

  /** Rows of capacity in chunk c. */
  rowsIn(c: number): number {
    return Math.min(this.chunkRows, this.capacity - c * this.chunkRows);
  }

  /** Bytes of chunk c's rows (whole groups) from byte 0 of its buffer or memory. */
  chunkBytes(c: number): number {
    return chunkWords(this.rowsIn(c), this.stride, this.group) * 4;
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
    const old = this.capacity;
    const n = capacity === 0 ? 0 : ((capacity - 1) >>> this.shift) + 1;
    this.chunks.length = Math.min(this.chunks.length, n);
    for (let c = 0; c < n; c++) {
      const rows = Math.min(this.chunkRows, capacity - c * this.chunkRows),
        ch = this.chunks[c];
      if (!ch) this.chunks.push(newChunk(rows, this.stride, this.group, this.hasHalf, this.host));
      else if (ch.rows !== rows) resizeChunk(ch, rows, this.host, this.stride, this.group, this.hasHalf);
    }
    this.capacity = capacity;
    // rows dropped from a group that stays keep their words: zero them, so that they come back zero
    if (capacity < old) for (let r = capacity; r < Math.min(old, (capacity | this.groupMask) + 1); r++) this.zeroRow(r);
  }

  /**
   * Moves chunk c's rows into `memory` (made by `host`, at least chunkBytes(c) long), rows
   * at byte 0; from then on `host` decides where the chunk's grown rows live (grow()).
   */
  moveToMemory(memory: WebAssembly.Memory, host: MemoryHost, c = 0): void {
    const ch = this.chunks[c],
      old = ch.data;
    ch.memory = memory;
    this.host = host;
    ch.buffer = EMPTY_BUF;
    chunkViews(ch, this.stride, this.group, this.hasHalf);
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
    return !!ch && reserveChunk(ch, this.host, bytes, this.stride, this.group, this.hasHalf);
  }

  /** A deep copy of the rows, each chunk in an ArrayBuffer of its own (never in a WebAssembly memory). */
  clone(): RowStore {
    const c = Object.create(RowStore.prototype) as RowStore;
    Object.assign(c, this);
    c.host = null;
    c.chunks = this.chunks.map((ch) => {
      const copy: RowChunk = { ...ch, memory: null, buffer: ch.data.slice().buffer }; // same element type: a byte copy
      chunkViews(copy, this.stride, this.group, this.hasHalf);
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
    if (!this.weightsOnly) this.wordsOf(r)[this.stateAt(r) + this.metaIn] = s;
  }

  /** Index in dataOf(r) of row r's weight 0 (weight j at + j). */
  weightsAt(r: number): number {
    return this.at(r);
  }

  /** Index in dataOf(r) of row r's float32 momentum of column 0 (column j at + j; float32 momentum only). */
  momentumAt(r: number): number {
    return this.stateAt(r);
  }

  /** Row r's last updated step (lastStep; not on a weights-only store). */
  lastStep(r: number): number {
    return this.wordsOf(r)[this.stateAt(r) + this.metaIn];
  }

  /** Row r's update count (bfloat16 momentum: saturated at 65535; not on a weights-only store). */
  updates(r: number): number {
    const o = this.stateAt(r);
    return this.countIn >= 0 ? this.chunk(r).half[2 * o + this.countIn] : this.wordsOf(r)[o + this.metaIn + 1];
  }

  /** Records an optimizer update of row r at step s: lastStep = s, updates + 1 (saturating with bfloat16). */
  markUpdated(r: number, s: number): void {
    const o = this.stateAt(r),
      w = this.wordsOf(r);
    w[o + this.metaIn] = s;
    if (this.countIn < 0) w[o + this.metaIn + 1]++;
    else {
      const h = this.chunk(r).half,
        i = 2 * o + this.countIn;
      if (h[i] !== 0xffff) h[i]++;
    }
  }

  /** Row r's block (weights, then state: the module doc's layouts) as raw words into out[off, off + stride). */
  readBlock(r: number, out: Int32Array | Uint32Array, off: number): void {
    const w = this.wordsOf(r),
      o = this.at(r),
      W = this.width;
    for (let j = 0; j < W; j++) out[off + j] = w[o + j];
    const so = this.stateAt(r),
      T = this.stateWords;
    for (let j = 0; j < T; j++) out[off + W + j] = w[so + j];
  }

  /** Sets row r's block from raw words src[off, off + stride) (readBlock's form). */
  writeBlock(r: number, src: Int32Array | Uint32Array, off: number): void {
    const w = this.wordsOf(r),
      o = this.at(r),
      W = this.width;
    for (let j = 0; j < W; j++) w[o + j] = src[off + j];
    const so = this.stateAt(r),
      T = this.stateWords;
    for (let j = 0; j < T; j++) w[so + j] = src[off + W + j];
  }

  /** Copies row `from`'s weights and state onto row `to` (any chunks). */
  copyRow(from: number, to: number): void {
    const a = this.at(from),
      s = this.stateAt(from),
      dst = this.wordsOf(to),
      src = this.wordsOf(from);
    dst.set(src.subarray(a, a + this.width), this.at(to));
    if (this.stateWords) dst.set(src.subarray(s, s + this.stateWords), this.stateAt(to));
  }

  /** Zeroes row r's weights and state. */
  zeroRow(r: number): void {
    const o = this.at(r),
      s = this.stateAt(r),
      w = this.wordsOf(r);
    w.fill(0, o, o + this.width);
    if (this.stateWords) w.fill(0, s, s + this.stateWords);
  }

  /** [n, W] weights of rows 0..n-1, packed (for exports). */
  packedWeights(n: number): Float32Array {
    const out = new Float32Array(n * this.width);
    for (let r = 0; r < n; r++) out.set(this.dataOf(r).subarray(this.at(r), this.at(r) + this.width), r * this.width);
    return out;
  }
}
