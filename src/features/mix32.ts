/**
 * @module murmur3's 32-bit finalizer (Appleby, MurmurHash3 `fmix32`): the avalanching bijection
 * of a 32-bit word that keys the synthetic source's PRNGs (src/ingest/synthetic-prng.ts) and the
 * admission sketch's hashes (src/model/admission.ts).
 */

/** murmur3's 32-bit finalizer: a bijective mix of a 32-bit word; returns an unsigned word. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
