/**
 * The id array of an embedding table (EmbeddingTable.ids: [2 capacity] each row's 64-bit feature
 * id, high word at 2 row, low word at 2 row + 1) growing in place (issue 12, growth without a
 * pause): the array is a view over a resizable ArrayBuffer that reserves address space for the
 * most rows a table holds (2^30 rows: 8 GiB of address space, no memory until used), so growing
 * commits pages instead of allocating a new array and copying every id into it (at 10^8 rows
 * the copies of the ids were most of a 1.6 s step spike, bench/table-growth.ts). @module
 *
 * The view has a fixed length (the capacity): a length-tracking view made find() slower (its
 * length is re-read from the buffer on each access). A grown array is a new view over the same
 * buffer, so holders re-read `ids` after growth as before. Where no resizable buffer can be
 * reserved (an address-space limit, ulimit -v), or on a copy (clone(): a plain array), growing
 * falls back to a new array and one copy. The same growth serves other per-row word arrays
 * (eviction.ts's last-seen times).
 */

/** Most rows a table holds (the id map's 2^30 rows, EmbeddingTable): an id array's most words are 2 MAX_IDS. */
export const MAX_IDS = 2 ** 30;

/** ArrayBuffer with the ES2024 resizable API (Node 20 has it; the ES2022 lib does not type it). */
interface Resizable extends ArrayBuffer {
  readonly resizable: boolean;
  readonly maxByteLength: number;
  resize(byteLength: number): void;
}

let reservable = true;

/**
 * A zero [n] word array: a plain one below DOUBLE_BELOW words (small tables, as row-sync.ts's id set
 * of each batch, reserve no address space) or when none can be reserved, else over a resizable
 * buffer of at most `most` words (MAX_IDS: one word a row; 2 MAX_IDS: an id array).
 */
export function newIds(n: number, most = MAX_IDS): Uint32Array {
  if (reservable && n >= DOUBLE_BELOW) {
    try {
      const Ctor = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
      return new Uint32Array(new Ctor(4 * n, { maxByteLength: 4 * most }), 0, n);
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

/**
 * The high (half 0) or low (half 1) words of rows [0, n) of an id array (hi at 2 r, lo at 2 r + 1)
 * as a new [n] array: the layout of checkpoints, exports and their Arrow files (id_hi, id_lo).
 */
export function idHalf(ids: Uint32Array, n: number, half: 0 | 1): Uint32Array {
  const out = new Uint32Array(n);
  for (let r = 0; r < n; r++) out[r] = ids[2 * r + half];
  return out;
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
 * of capacity (rows 108, id 8) is at most ~118 B a row in use, not up to 232 as with doubling.
 */
export function grownCapacity(cap: number): number {
  if (cap < DOUBLE_BELOW) return 2 * cap;
  return Math.ceil((cap + Math.max(GROW_STEP, cap / 64)) / GROW_STEP) * GROW_STEP;
}
