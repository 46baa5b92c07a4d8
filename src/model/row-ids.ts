/**
 * The id arrays of an embedding table (EmbeddingTable.rowHi / rowLo: [capacity] high and low
 * words of each row's 64-bit feature id) growing in place (issue 12, growth without a pause):
 * each array is a view over a resizable ArrayBuffer that reserves address space for the most
 * rows a table holds (2^30: 4 GiB of address space an array, no memory until used), so growing
 * commits pages instead of allocating a new array and copying every id into it (at 10^8 rows
 * the copies of both arrays were most of a 1.6 s step spike, bench/table-growth.ts). @module
 *
 * The view has a fixed length (the capacity): a length-tracking view made find() slower (its
 * length is re-read from the buffer on each access). A grown array is a new view over the same
 * buffer, so holders re-read `rowHi` after growth as before. Where no resizable buffer can be
 * reserved (an address-space limit, ulimit -v), or on a copy (clone(): a plain array), growing
 * falls back to a new array and one copy.
 */

/** Most ids an array holds (the id map's 2^30 rows, EmbeddingTable). */
export const MAX_IDS = 2 ** 30;

/** ArrayBuffer with the ES2024 resizable API (Node 20 has it; the ES2022 lib does not type it). */
interface Resizable extends ArrayBuffer {
  readonly resizable: boolean;
  readonly maxByteLength: number;
  resize(byteLength: number): void;
}

let reservable = true;

/**
 * A zero [n] id array: a plain one below DOUBLE_BELOW ids (small tables, as row-sync.ts's id set of
 * each batch, reserve no address space) or when none can be reserved, else over a resizable buffer.
 */
export function newIds(n: number): Uint32Array {
  if (reservable && n >= DOUBLE_BELOW) {
    try {
      const Ctor = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
      return new Uint32Array(new Ctor(4 * n, { maxByteLength: 4 * MAX_IDS }), 0, n);
    } catch {
      reservable = false; // no address space for it: plain arrays from now on
    }
  }
  return new Uint32Array(n);
}

/**
 * `a` at `n` ids, the first min(a.length, n) kept and new ones zero: the same buffer resized in
 * place when it is resizable and large enough, else a new array and a copy (a plain array growing
 * past DOUBLE_BELOW ids: one copy of them into a resizable one).
 * @returns a view of n ids (not `a`: callers replace their reference).
 */
export function growIds(a: Uint32Array, n: number): Uint32Array {
  const buf = a.buffer as Resizable;
  if (buf.resizable && a.byteOffset === 0 && 4 * n <= buf.maxByteLength) {
    buf.resize(4 * n); // bytes past the old length read as zero
    return new Uint32Array(buf, 0, n);
  }
  const b = newIds(n);
  b.set(a.length > n ? a.subarray(0, n) : a);
  return b;
}

/** Below this capacity a full table doubles; from it on it grows by a 64th (at least GROW_STEP rows). */
export const DOUBLE_BELOW = 2 ** 16;
/** Rows a grown capacity is a multiple of, past DOUBLE_BELOW. */
export const GROW_STEP = 2 ** 14;

/**
 * The capacity a full table of `cap` rows grows to: 2 cap below DOUBLE_BELOW, else cap plus a
 * 64th (at least GROW_STEP), a multiple of GROW_STEP. Growing adds rows in place (ids here, rows
 * in new chunks or a grown WebAssembly memory), so small steps cost no copies of what is held, and
 * the spare capacity stays under 1/64 + GROW_STEP rows: at dim 16 with bfloat16 momentum 116 B a row
 * of capacity (rows 108, ids 8) is at most ~118 B a row in use, not up to 232 as with doubling.
 */
export function grownCapacity(cap: number): number {
  if (cap < DOUBLE_BELOW) return 2 * cap;
  return Math.ceil((cap + Math.max(GROW_STEP, cap / 64)) / GROW_STEP) * GROW_STEP;
}
