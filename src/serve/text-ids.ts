/**
 * A per-slot cache of categorical ids keyed by the value's text inside a request body: a value
 * is looked up by its character range [s, e) of the body, without slicing it out as a string
 * (a new string per value, whose hash V8 computes again in SlotHasher's Map: hashInto was 27% of
 * the server's CPU at 256 instances per request, bench/serve-speed.ts). Open addressing over
 * FNV-1a 32-bit hashes of the UTF-16 code units (FNV: Fowler/Noll/Vo, offset basis 2166136261,
 * prime 16777619); a hit is confirmed by comparing the text, so ids are exactly the ones stored.
 * Bounded: emptied when `max` values are held (as SlotHasher's cache). Not thread-safe; one per slot.
 */

import { placeEntry, rebuiltTable, widened } from '../features/open-table.ts';

/** FNV-1a 32-bit of the code units text[s, e). */
export function fnv1a(text: string, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let i = s; i < e; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h | 0;
}

export class TextIds {
  /** Table of entry index + 1 (0: empty), 2x the entries' room. */
  private table: Int32Array;
  private hashes: Int32Array;
  private keys: string[] = [];
  /** The ids (two uint32 halves) of entry k. */
  hi: Uint32Array;
  lo: Uint32Array;
  private n = 0;

  /** @param max most values held (a power of two); the cache is emptied when it is full. */
  constructor(private readonly max = 1 << 15) {
    this.table = new Int32Array(2048);
    this.hashes = new Int32Array(1024);
    this.hi = new Uint32Array(1024);
    this.lo = new Uint32Array(1024);
  }

  /** Entry of the value text[s, e) whose fnv1a is `h`, or -1. */
  find(text: string, s: number, e: number, h: number): number {
    const t = this.table,
      mask = t.length - 1;
    for (let j = h & mask; ; j = (j + 1) & mask) {
      const k = t[j] - 1;
      if (k < 0) return -1;
      if (this.hashes[k] === h) {
        const key = this.keys[k];
        if (key.length === e - s && text.startsWith(key, s)) return k;
      }
    }
  }

  /** Stores `key` (whose fnv1a is `h`) with its id (hi, lo). */
  add(key: string, h: number, hi: number, lo: number): void {
    if (this.n >= this.max) this.clear();
    if (this.n >= this.hashes.length) this.grow();
    const k = this.n++;
    this.keys[k] = key;
    this.hashes[k] = h;
    this.hi[k] = hi;
    this.lo[k] = lo;
    placeEntry(this.table, h, k);
  }

  private clear(): void {
    this.n = 0;
    this.keys = [];
    this.table.fill(0);
  }

  /** Twice the room: entries copied, the table rebuilt. */
  private grow(): void {
    const cap = this.hashes.length * 2;
    this.hashes = widened(this.hashes, cap);
    this.hi = widened(this.hi, cap);
    this.lo = widened(this.lo, cap);
    this.table = rebuiltTable(this.hashes, this.n, cap * 2);
  }
}
