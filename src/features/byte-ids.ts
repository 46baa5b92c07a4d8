/**
 * A per-slot cache of categorical ids keyed by a value's UTF-8 bytes inside an Arrow Utf8
 * column's data buffer (issue 13, the ingest thread): a value is looked up by its byte range
 * [s, e) of the column, without decoding it to a JS string (Arrow's Vector.get decodes each value,
 * then SlotHasher's Map hashes the new string again: together ~40% of the ingest thread's CPU on
 * the Criteo file, bench/ingest-featurize.ts). Open addressing over FNV-1a 32-bit hashes of the
 * bytes (FNV: Fowler/Noll/Vo, offset basis 2166136261, prime 16777619); a hit is confirmed by
 * comparing the bytes, so an id is exactly the one stored for those bytes. A miss is hashed by
 * the caller from the decoded string, as before (featurizer.ts), so ids never depend on this cache.
 * Bounded: emptied when `max` values or `maxBytes` key bytes are held. Not thread-safe; one per slot.
 */

import { placeEntry, rebuiltTable, widened } from './open-table.ts';

/** FNV-1a 32-bit of bytes[s, e). */
export function fnv1aBytes(bytes: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let i = s; i < e; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h | 0;
}

export class ByteIds {
  /** Table of entry index + 1 (0: empty), 2x the entries' room. */
  private table: Int32Array;
  private hashes: Int32Array;
  /** Entry k's key is arena[start[k], start[k + 1]). */
  private start: Int32Array;
  private arena: Uint8Array;
  /** The ids (two uint32 halves) of entry k. */
  hi: Uint32Array;
  lo: Uint32Array;
  private n = 0;

  /**
   * @param max most values held (a power of two); @param maxBytes most key bytes held. The cache is
   *   emptied when either is reached (memory: about 28 B a value + its bytes).
   */
  constructor(
    private readonly max = 1 << 16,
    private readonly maxBytes = 1 << 21,
  ) {
    this.table = new Int32Array(2048);
    this.hashes = new Int32Array(1024);
    this.start = new Int32Array(1025);
    this.hi = new Uint32Array(1024);
    this.lo = new Uint32Array(1024);
    this.arena = new Uint8Array(16 * 1024);
  }

  /** Values held. */
  get size(): number {
    return this.n;
  }

  /** Entry of the value bytes[s, e) whose fnv1aBytes is `h`, or -1. */
  find(bytes: Uint8Array, s: number, e: number, h: number): number {
    const t = this.table,
      mask = t.length - 1,
      a = this.arena;
    for (let j = h & mask; ; j = (j + 1) & mask) {
      const k = t[j] - 1;
      if (k < 0) return -1;
      if (this.hashes[k] !== h) continue;
      const ks = this.start[k];
      if (this.start[k + 1] - ks !== e - s) continue;
      let i = 0;
      while (s + i < e && a[ks + i] === bytes[s + i]) i++;
      if (s + i === e) return k;
    }
  }

  /** Stores bytes[s, e) (whose fnv1aBytes is `h`) with its id (hi, lo). */
  add(bytes: Uint8Array, s: number, e: number, h: number, hi: number, lo: number): void {
    const len = e - s;
    if (this.n >= this.max || this.start[this.n] + len > this.maxBytes) this.clear();
    if (this.n >= this.hashes.length) this.grow();
    const k = this.n++;
    const ks = this.start[k];
    if (ks + len > this.arena.length) {
      const a = new Uint8Array(Math.max(this.arena.length * 2, ks + len));
      a.set(this.arena.subarray(0, ks));
      this.arena = a;
    }
    this.arena.set(bytes.subarray(s, e), ks);
    this.start[k + 1] = ks + len;
    this.hashes[k] = h;
    this.hi[k] = hi;
    this.lo[k] = lo;
    placeEntry(this.table, h, k);
  }

  private clear(): void {
    this.n = 0;
    this.table.fill(0);
  }

  /** Twice the room: entries copied, the table rebuilt. */
  private grow(): void {
    const cap = this.hashes.length * 2;
    this.hashes = widened(this.hashes, cap);
    this.start = widened(this.start, cap + 1);
    this.hi = widened(this.hi, cap);
    this.lo = widened(this.lo, cap);
    this.table = rebuiltTable(this.hashes, this.n, cap * 2);
  }
}
