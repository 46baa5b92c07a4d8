/**
 * One chunk of an embedding table's rows (RowStore, row-store.ts): its buffer (an ArrayBuffer
 * or a WebAssembly memory whose owner is a MemoryHost), its three views, and how it grows.
 * @module
 */

/**
 * The owner of a chunk's WebAssembly memory: how large it may be and whether rows of a size
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
 * throws a RangeError) and most rows of a chunk (log2): a chunk's views must fit the first,
 * so a chunk holds fewer rows when its rows are large. Tests lower both.
 */
export const rowViewLimits = { maxElements: 2 ** 32, chunkRowsLog2: 20 };

/** Most bytes of one chunk (a large row gets fewer rows a chunk). */
const MAX_CHUNK_BYTES = 2 ** 30;

/**
 * log2 of the rows of a chunk of `stride`-word rows: rowViewLimits.chunkRowsLog2, less while
 * the chunk's views (2 halves a word when `halves`) or bytes (1 GiB) would be over the limits.
 */
export function chunkShift(stride: number, halves: boolean): number {
  const perRow = stride * (halves ? 2 : 1);
  let shift = rowViewLimits.chunkRowsLog2;
  while (shift > 0 && (2 ** shift * perRow > rowViewLimits.maxElements || 2 ** shift * stride * 4 > MAX_CHUNK_BYTES))
    shift--;
  return shift;
}

/** One chunk of rows: its views (over its rows only) and its WebAssembly memory, if any. */
export interface RowChunk {
  /** Rows of the chunk (chunkRows, or fewer for the last one). */
  rows: number;
  data: Float32Array;
  words: Int32Array;
  /** bf16 momentum halves (empty without bfloat16 momentum). */
  half: Uint16Array;
  /** The chunk's WebAssembly memory (rows at byte 0), or null when they live in an ArrayBuffer. */
  memory: WebAssembly.Memory | null;
  /** The chunk's ArrayBuffer (empty while it is in a memory). */
  buffer: ArrayBuffer;
}

/**
 * A zero chunk of `rows` rows of `stride` words (a Uint16 view when `halves`): in a new memory
 * of `host` when one is given and it makes one, else in an ArrayBuffer.
 */
export function newChunk(rows: number, stride: number, halves: boolean, host: MemoryHost | null = null): RowChunk {
  const bytes = rows * stride * 4,
    memory = host?.holds(bytes) ? host.create(bytes) : null;
  const ch: RowChunk = {
    rows,
    data: EMPTY_F,
    words: EMPTY_I,
    half: EMPTY_H,
    memory,
    buffer: memory ? EMPTY_BUF : new ArrayBuffer(bytes),
  };
  chunkViews(ch, stride, halves);
  return ch;
}

/** (Re)makes a chunk's views over its buffer or memory (growing a memory detaches the old ones). */
export function chunkViews(ch: RowChunk, stride: number, halves: boolean): void {
  const buf = ch.memory ? ch.memory.buffer : ch.buffer,
    words = ch.rows * stride;
  ch.data = new Float32Array(buf, 0, words);
  ch.words = new Int32Array(buf, 0, words);
  ch.half = halves ? new Uint16Array(buf, 0, 2 * words) : EMPTY_H;
}

/**
 * Makes a chunk's memory at least `bytes` long (rows and what the host keeps after them),
 * refreshing its views. False when the chunk is in an ArrayBuffer, `bytes` is over the host's
 * maxBytes, or the memory cannot grow.
 */
export function reserveChunk(ch: RowChunk, host: MemoryHost | null, bytes: number, stride: number, halves: boolean) {
  const m = ch.memory;
  if (!m || !host || bytes > host.maxBytes) return false;
  if (m.buffer.byteLength < bytes) {
    try {
      m.grow(Math.ceil((bytes - m.buffer.byteLength) / PAGE));
    } catch {
      return false;
    }
    chunkViews(ch, stride, halves);
  }
  return true;
}

/**
 * A chunk at `rows` rows, keeping its first min(old, new) rows, new rows zero. In a memory
 * it grows in place (what the host kept after the rows is overwritten); a chunk its host no
 * longer holds goes back to an ArrayBuffer (one copy of the chunk).
 */
export function resizeChunk(ch: RowChunk, rows: number, host: MemoryHost | null, stride: number, halves: boolean) {
  const oldWords = ch.rows * stride,
    newWords = rows * stride,
    bytes = newWords * 4;
  const h = ch.memory ? host : null,
    had = ch.memory ? ch.memory.buffer.byteLength / 4 : 0;
  if (h && rows >= ch.rows && h.holds(bytes) && reserveChunk(ch, h, bytes, stride, halves)) {
    ch.rows = rows;
    chunkViews(ch, stride, halves);
    // the pages the memory grew by are zero (WebAssembly.Memory.grow): only the words it had
    // after the rows (the owner's scratch) need zeroing, not the whole new part (touching
    // every new page: 2.6 s of a 16.8e6 -> 33.6e6 row growth on this VM)
    ch.data.fill(0, oldWords, Math.min(newWords, had));
    return;
  }
  const old = ch.data.subarray(0, Math.min(oldWords, newWords));
  const memory = h?.holds(bytes) ? h.create(bytes) : null;
  ch.memory = memory;
  ch.buffer = memory ? EMPTY_BUF : new ArrayBuffer(bytes);
  ch.rows = rows;
  chunkViews(ch, stride, halves);
  ch.data.set(old);
}

/** WebAssembly page size (bytes). */
const PAGE = 65536;
export const EMPTY_BUF = new ArrayBuffer(0);
const EMPTY_F = new Float32Array(0);
const EMPTY_I = new Int32Array(0);
const EMPTY_H = new Uint16Array(0);
