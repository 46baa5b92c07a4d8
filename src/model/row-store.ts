import { readFileSync } from 'node:fs';

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
 * The buffer is a plain ArrayBuffer until the WebAssembly SIMD kernel asks for the table
 * (useWasmMemory()): from then on a WebAssembly.Memory of the table's own (rows at byte 0,
 * then the kernel's scratch, see reserve()) while the rows fit in 4 GiB less
 * `SCRATCH_SLACK`, else an ArrayBuffer again (and the JS kernel). Each WebAssembly memory
 * reserves about 10 GiB of address space in V8 (guard regions), so tables that no kernel
 * asks for (serving, the JS kernel) never take one, and at most `MAX_WASM_TABLES` live
 * ones are made per process.
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
  /** Most bytes of a table's WebAssembly memory: 4 GiB (wasm32); tests lower it to try the fall-back. */
  static wasmMaxBytes = 4 * 2 ** 30;
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
   * overwritten); rows that no longer fit in one go back to an ArrayBuffer.
   */
  grow(capacity: number): void {
    const oldWords = this.capacity * this.stride, newWords = capacity * this.stride, bytes = newWords * 4;
    if (this.memory && capacity >= this.capacity && bytes + SCRATCH_SLACK <= RowStore.wasmMaxBytes && this.reserve(bytes)) {
      this.capacity = capacity;
      this.views();
      this.data.fill(0, oldWords, newWords);
      return;
    }
    const old = this.data.subarray(0, Math.min(oldWords, newWords));
    const memory = this.memory && bytes + SCRATCH_SLACK <= RowStore.wasmMaxBytes ? newWasmMemory(bytes) : null;
    this.memory = memory;
    this.buffer = memory ? new ArrayBuffer(0) : new ArrayBuffer(bytes);
    this.capacity = capacity;
    this.views();
    this.data.set(old);
  }

  /**
   * Moves the rows into a WebAssembly memory of their own (for the SIMD kernel).
   * @returns null when done (or already there), else why not: the rows are over the 4 GiB
   *   of a WebAssembly memory, `MAX_WASM_TABLES` are live, the process has an address-space
   *   limit (ulimit -v), or V8 could not reserve the memory.
   */
  useWasmMemory(): string | null {
    if (this.memory) return null;
    const bytes = this.capacity * this.stride * 4;
    if (bytes + SCRATCH_SLACK > RowStore.wasmMaxBytes) {
      return `its rows (${(bytes / 2 ** 30).toFixed(2)} GiB) are over the ${((RowStore.wasmMaxBytes - SCRATCH_SLACK) / 2 ** 30).toFixed(2)} GiB a WebAssembly memory holds for rows (${(RowStore.wasmMaxBytes / 2 ** 30).toFixed(2)} GiB less the kernel's scratch)`;
    }
    const refused = wasmMemoryRefusal();
    if (refused) return refused;
    const memory = newWasmMemory(bytes);
    if (!memory) return 'V8 could not reserve a WebAssembly memory';
    const old = this.data;
    this.memory = memory;
    this.buffer = new ArrayBuffer(0);
    this.views();
    this.data.set(old);
    return null;
  }

  /**
   * Makes the table's memory at least `bytes` long (rows and scratch), for the SIMD kernel.
   * Refreshes the views (growing a memory detaches the old ones). Returns false when the
   * rows are in an ArrayBuffer, `bytes` is over the 4 GiB of a WebAssembly memory, or the
   * memory cannot grow.
   */
  reserve(bytes: number): boolean {
    const m = this.memory;
    if (!m || bytes > RowStore.wasmMaxBytes) return false;
    if (m.buffer.byteLength < bytes) {
      try { m.grow(Math.ceil((bytes - m.buffer.byteLength) / PAGE)); } catch { return false; }
      this.views();
    }
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
/** Room kept for the kernel's scratch when choosing a WebAssembly memory (bytes). */
const SCRATCH_SLACK = 256 * 2 ** 20;
/** Most live WebAssembly table memories per process (V8 allows about 13,000 of ~10 GiB reservations). */
export const MAX_WASM_TABLES = 4096;
let liveWasmTables = 0;
const released = new FinalizationRegistry<null>(() => { liveWasmTables--; });

/** A new memory of at least `bytes` (counted until collected), or null when V8 refuses. */
function newWasmMemory(bytes: number): WebAssembly.Memory | null {
  if (wasmMemoryRefusal()) return null;
  try {
    const m = new WebAssembly.Memory({ initial: Math.ceil(Math.max(bytes, 1) / PAGE) });
    liveWasmTables++;
    released.register(m, null);
    return m;
  } catch { return null; }
}

let addressLimit: string | null | undefined;
/** Why no new WebAssembly table memory may be made now (ulimit -v, too many), or null. */
export function wasmMemoryRefusal(): string | null {
  if (addressLimit === undefined) {
    // ulimit -v: each memory reserves ~10 GiB of address space; a limited process would
    // run out of it for everything else
    addressLimit = null;
    try {
      const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max address space'));
      const soft = line?.slice('Max address space'.length).trim().split(/\s+/)[0];
      if (soft && soft !== 'unlimited') addressLimit = `the process has an address-space limit (ulimit -v, ${soft} bytes)`;
    } catch { /* not Linux: no such limit to read */ }
  }
  if (addressLimit) return addressLimit;
  if (liveWasmTables >= MAX_WASM_TABLES) return `${MAX_WASM_TABLES} tables already have a WebAssembly memory`;
  return null;
}
