/**
 * Row storage of one embedding table, one contiguous block per row so that a sparse
 * optimizer step touches one place in memory per row (random row access is bound by
 * memory latency, not bandwidth):
 *
 *   float32 momentum:  [ w_0 .. w_{W-1} | m_0 .. m_{W-1} | lastStep | updates ]   stride 2W + 2 words
 *   bfloat16 momentum: [ w_0 .. w_{W-1} | m_0 .. m_{W-1} as W halves | lastStep | updates ]
 *                                                                  stride W + ceil(W/2) + 2 words
 *
 * One buffer, three views: `data` (float32 words), `words` (int32 words, for lastStep and
 * updates) and `half` (uint16, for bf16 momentum), each over the rows only. Row r starts at
 * word r * stride. lastStep = the last step whose update the row has had; updates = how
 * many optimizer updates it has had.
 *
 * The buffer is a WebAssembly.Memory of the table's own (rows at byte 0, then scratch that
 * the SIMD kernel uses, see reserve()) while the rows fit in 4 GiB less `SCRATCH_SLACK`,
 * else a plain ArrayBuffer (and the JS kernel).
 */
export class RowStore {
  /** W, floats of weights per row. */
  readonly width: number;
  readonly dtype: 'float32' | 'bfloat16';
  /** Words (4 bytes) per row block. */
  readonly stride: number;
  /** Word offset of the momentum inside a block (float32 index; for bf16, half index = 2 * (block + momOff) + j). */
  readonly momOff: number;
  /** Word offset of lastStep (updates is the next word). */
  readonly metaOff: number;
  data: Float32Array;
  words: Int32Array;
  half: Uint16Array;
  capacity: number;
  /** The table's WebAssembly memory (rows at byte 0), or null when the rows live in an ArrayBuffer. */
  memory: WebAssembly.Memory | null = null;

  constructor(width: number, capacity: number, dtype: 'float32' | 'bfloat16' = 'float32') {
    this.width = width;
    this.dtype = dtype;
    this.momOff = width;
    this.metaOff = dtype === 'float32' ? 2 * width : width + Math.ceil(width / 2);
    this.stride = this.metaOff + 2;
    this.capacity = 0;
    this.data = new Float32Array(0); this.words = new Int32Array(0); this.half = new Uint16Array(0);
    this.grow(capacity);
  }

  /**
   * Reallocates to `capacity` rows, keeping the first min(old, new) rows; new rows are
   * zero. In a WebAssembly memory growing keeps the rows in place (scratch after them is
   * overwritten).
   */
  grow(capacity: number): void {
    const oldWords = this.capacity * this.stride, newWords = capacity * this.stride, bytes = newWords * 4;
    if (this.memory && capacity >= this.capacity && bytes + SCRATCH_SLACK <= WASM_MAX_BYTES) {
      this.reserve(bytes);
      this.capacity = capacity;
      this.views();
      this.data.fill(0, oldWords, newWords);
      return;
    }
    const old = this.data.subarray(0, Math.min(oldWords, newWords));
    if (bytes + SCRATCH_SLACK <= WASM_MAX_BYTES) {
      this.memory = new WebAssembly.Memory({ initial: Math.ceil(Math.max(bytes, 1) / PAGE) });
    } else {
      this.memory = null;
      this.buffer = new ArrayBuffer(bytes);
    }
    this.capacity = capacity;
    this.views();
    this.data.set(old);
  }

  /**
   * Makes the table's memory at least `bytes` long (rows and scratch), for the SIMD kernel.
   * Refreshes the views (growing a memory detaches the old ones). Returns false when the
   * rows are in an ArrayBuffer or `bytes` is over the 4 GiB of a WebAssembly memory.
   */
  reserve(bytes: number): boolean {
    const m = this.memory;
    if (!m || bytes > WASM_MAX_BYTES) return false;
    if (m.buffer.byteLength < bytes) { m.grow(Math.ceil((bytes - m.buffer.byteLength) / PAGE)); this.views(); }
    return true;
  }

  /** Byte offset where the scratch after the rows starts (64-byte aligned). */
  get scratchBase(): number { return Math.ceil((this.capacity * this.stride * 4) / 64) * 64; }

  private buffer: ArrayBuffer = new ArrayBuffer(0);
  private views(): void {
    const buf = this.memory ? this.memory.buffer : this.buffer, words = this.capacity * this.stride;
    this.data = new Float32Array(buf, 0, words);
    this.words = new Int32Array(buf, 0, words);
    this.half = new Uint16Array(buf, 0, 2 * words);
  }

  /** Bytes of the rows (allocated capacity, without the kernel's scratch). */
  get bytes(): number { return this.data.byteLength; }

  /** Copies row r's W weights into out (or a new array). */
  getWeights(r: number, out = new Float32Array(this.width)): Float32Array {
    out.set(this.data.subarray(r * this.stride, r * this.stride + this.width));
    return out;
  }

  /** Sets row r's W weights. */
  setWeights(r: number, values: ArrayLike<number>): void {
    this.data.set(values, r * this.stride);
  }

  /** Sets row r's last updated step. */
  setLastStep(r: number, s: number): void { this.words[r * this.stride + this.metaOff] = s; }

  /** [n, W] weights of rows 0..n-1, packed (for exports). */
  packedWeights(n: number): Float32Array {
    const out = new Float32Array(n * this.width);
    for (let r = 0; r < n; r++) out.set(this.data.subarray(r * this.stride, r * this.stride + this.width), r * this.width);
    return out;
  }
}

/** WebAssembly page size (bytes). */
const PAGE = 65536;
/** Most bytes of a WebAssembly (32-bit) memory. */
const WASM_MAX_BYTES = 4 * 2 ** 30;
/** Room kept for the kernel's scratch when choosing a WebAssembly memory (bytes). */
const SCRATCH_SLACK = 256 * 2 ** 20;
