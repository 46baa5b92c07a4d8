/**
 * Row storage of one embedding table, one contiguous block per row so that a sparse
 * optimizer step touches one place in memory per row (random row access is bound by
 * memory latency, not bandwidth):
 *
 *   float32 momentum:  [ w_0 .. w_{W-1} | m_0 .. m_{W-1} | lastStep | updates ]   stride 2W + 2 words
 *   bfloat16 momentum: [ w_0 .. w_{W-1} | m_0 .. m_{W-1} as W halves | lastStep | updates ]
 *                                                                  stride W + ceil(W/2) + 2 words
 *   none (serving):    [ w_0 .. w_{W-1} ]                              stride W words
 *
 * A 'none' store holds weights only (a loaded export that is never trained: 4W bytes a row
 * instead of 4(2W + 2)); setLastStep is a no-op on it and it has no momentum or updates.
 *
 * One buffer, three views: `data` (float32 words), `words` (int32 words, for lastStep and
 * updates) and `half` (uint16, for bf16 momentum), each over the rows only. Row r starts at
 * word r * stride. lastStep = the last step whose update the row has had; updates = how
 * many optimizer updates it has had.
 *
 * The buffer is a plain ArrayBuffer until an owner moves the rows into a WebAssembly.Memory
 * of their own (moveToMemory(); the training kernel does, src/train/optim/wasm/wasm-memory.ts):
 * from then on the rows are at byte 0 of it, the owner may use the bytes after them
 * (reserve()), and its MemoryHost decides whether grown rows stay in a memory or go back to
 * an ArrayBuffer. Tables that no owner asks for (serving) never take one.
 */

import { LionctrError } from '../errors.ts';

/**
 * The owner of a table's WebAssembly memory: how large it may be and whether rows of a size
 * may live in one (what the owner keeps after the rows is its own business).
 */
export interface MemoryHost {
  /** Most bytes the memory may have (rows and what the owner keeps after them). */
  readonly maxBytes: number;
  /** Whether rows of `bytes` may be (or stay) in a memory of this host. */
  holds(bytes: number): boolean;
  /** A new memory of at least `bytes`, or null when none can be made now. */
  create(bytes: number): WebAssembly.Memory | null;
}

/**
 * Most elements of one typed array (V8 in Node 20: 2^32; new Uint16Array(buf, 0, 2^32 + 1)
 * throws a RangeError). The views cover all rows, so a store holds at most maxElements / stride
 * rows (16 GiB), and with bfloat16 momentum half that (its Uint16 view has 2 elements a word:
 * 76.7 million rows at dim 16). Tests lower it.
 */
export const rowViewLimits = { maxElements: 2 ** 32 };

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
  /** Word offset of lastStep (updates is the next word); W (= stride, no such words) for 'none'. */
  readonly metaOff: number;
  data: Float32Array;
  words: Int32Array;
  half: Uint16Array;
  capacity: number;
  /** The table's WebAssembly memory (rows at byte 0), or null when the rows live in an ArrayBuffer. */
  memory: WebAssembly.Memory | null = null;
  /** The owner of `memory` (null with it). */
  private host: MemoryHost | null = null;

  /**
   * Most rows this store can hold (rowViewLimits): a table stops growing there (EmbeddingTable
   * admits no more ids, as at a memory budget's cap).
   */
  get maxRows(): number {
    return Math.floor(rowViewLimits.maxElements / (this.stride * (this.hasHalf ? 2 : 1)));
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
    this.metaOff = layout === 'bfloat16' ? width + Math.ceil(width / 2) : layout === 'float32' ? 2 * width : width;
    this.stride = this.weightsOnly ? width : this.metaOff + 2;
    this.capacity = 0;
    this.data = new Float32Array(0);
    this.words = new Int32Array(0);
    this.half = new Uint16Array(0);
    this.grow(capacity);
  }

  /**
   * Reallocates to `capacity` rows, keeping the first min(old, new) rows; new rows are
   * zero. In a WebAssembly memory growing keeps the rows in place (what the host kept after
   * them is overwritten); rows that its host no longer holds go back to an ArrayBuffer.
   */
  grow(capacity: number): void {
    if (capacity > this.maxRows) {
      throw new LionctrError(
        'LIONCTR_UNAVAILABLE',
        `RowStore: ${capacity} rows of ${this.stride} words are over the ${this.maxRows} one typed array holds`,
      );
    }
    const oldWords = this.capacity * this.stride,
      newWords = capacity * this.stride,
      bytes = newWords * 4;
    const host = this.memory ? this.host : null,
      had = this.memory ? this.memory.buffer.byteLength / 4 : 0;
    if (host && capacity >= this.capacity && host.holds(bytes) && this.reserve(bytes)) {
      this.capacity = capacity;
      this.views();
      // the pages the memory grew by are zero (WebAssembly.Memory.grow): only the words it had
      // after the rows (the owner's scratch) need zeroing, not the whole new half (touching
      // every new page: 2.6 s of a 16.8e6 -> 33.6e6 row growth on this VM)
      this.data.fill(0, oldWords, Math.min(newWords, had));
      return;
    }
    const old = this.data.subarray(0, Math.min(oldWords, newWords));
    const memory = host?.holds(bytes) ? host.create(bytes) : null;
    this.memory = memory;
    if (!memory) this.host = null;
    this.buffer = memory ? new ArrayBuffer(0) : new ArrayBuffer(bytes);
    this.capacity = capacity;
    this.views();
    this.data.set(old);
  }

  /**
   * Moves the rows into `memory` (made by `host`, at least `bytes` long), rows at byte 0;
   * from then on `host` decides where grown rows live (grow()).
   */
  moveToMemory(memory: WebAssembly.Memory, host: MemoryHost): void {
    const old = this.data;
    this.memory = memory;
    this.host = host;
    this.buffer = new ArrayBuffer(0);
    this.views();
    this.data.set(old);
  }

  /**
   * Makes the table's memory at least `bytes` long (rows and what the host keeps after
   * them). Refreshes the views (growing a memory detaches the old ones). Returns false when
   * the rows are in an ArrayBuffer, `bytes` is over the host's maxBytes, or the memory
   * cannot grow.
   */
  reserve(bytes: number): boolean {
    const m = this.memory;
    if (!m || !this.host || bytes > this.host.maxBytes) return false;
    if (m.buffer.byteLength < bytes) {
      try {
        m.grow(Math.ceil((bytes - m.buffer.byteLength) / PAGE));
      } catch {
        return false;
      }
      this.views();
    }
    return true;
  }

  /** A deep copy of the row blocks, in an ArrayBuffer of its own (never in a WebAssembly memory). */
  clone(): RowStore {
    const c = Object.create(RowStore.prototype) as RowStore;
    Object.assign(c, this);
    c.memory = null;
    c.host = null;
    c.buffer = this.data.slice().buffer; // same element type: a byte copy
    c.views();
    return c;
  }

  private buffer: ArrayBuffer = new ArrayBuffer(0);
  private views(): void {
    const buf = this.memory ? this.memory.buffer : this.buffer,
      words = this.capacity * this.stride;
    this.data = new Float32Array(buf, 0, words);
    this.words = new Int32Array(buf, 0, words);
    this.half = this.hasHalf ? new Uint16Array(buf, 0, 2 * words) : new Uint16Array(0);
  }

  /** Bytes of the rows (allocated capacity, without the kernel's scratch). */
  get bytes(): number {
    return this.data.byteLength;
  }

  /** Copies row r's W weights into out (or a new array). */
  getWeights(r: number, out = new Float32Array(this.width)): Float32Array {
    out.set(this.data.subarray(r * this.stride, r * this.stride + this.width));
    return out;
  }

  /** Sets row r's W weights. */
  setWeights(r: number, values: ArrayLike<number>): void {
    this.data.set(values, r * this.stride);
  }

  /** Sets row r's last updated step (no-op on a weights-only store). */
  setLastStep(r: number, s: number): void {
    if (!this.weightsOnly) this.words[r * this.stride + this.metaOff] = s;
  }

  /** Index in `data` of row r's weight 0 (weight j at + j). */
  weightsAt(r: number): number {
    return r * this.stride;
  }

  /** Index in `data` of row r's float32 momentum of column 0 (column j at + j; float32 momentum only). */
  momentumAt(r: number): number {
    return r * this.stride + this.momOff;
  }

  /** Records an optimizer update of row r at step s: lastStep = s, updates + 1. */
  markUpdated(r: number, s: number): void {
    const o = r * this.stride + this.metaOff;
    this.words[o] = s;
    this.words[o + 1]++;
  }

  /** [n, W] weights of rows 0..n-1, packed (for exports). */
  packedWeights(n: number): Float32Array {
    const out = new Float32Array(n * this.width);
    for (let r = 0; r < n; r++)
      out.set(this.data.subarray(r * this.stride, r * this.stride + this.width), r * this.width);
    return out;
  }
}

/** WebAssembly page size (bytes). */
const PAGE = 65536;
