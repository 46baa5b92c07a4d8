/**
 * Small seeded PRNGs for the synthetic source: xoshiro128** (32-bit words) seeded through
 * a murmur3-style finalizer, so a stream can be keyed by (seed, example index) and any
 * example regenerated in O(1).
 */

import { fmix32 } from '../features/mix32.ts';

const TWO_POW_32 = 4294967296;

/** xoshiro128** generator; `uniform()` in (0, 1) with 32-bit resolution, `normal()` by Box-Muller (pairs cached). */
export class Xoshiro128 {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare = NaN;

  /** A generator keyed by two 32-bit words (e.g. seed and stream id); see reseed. */
  constructor(a = 0, b = 0) {
    this.reseed(a, b);
  }

  /**
   * Resets the state from two 32-bit words (any numbers; used modulo 2^32): four words of a
   * splitmix-style sequence started at a hash of (a, b). Different (a, b) give different states.
   */
  reseed(a: number, b: number): void {
    let h = fmix32(Math.imul(a | 0, 0x9e3779b1) ^ 0x5bd1e995);
    h = fmix32(h ^ Math.imul((b | 0) + 0x632be5ab, 0x85ebca77));
    h = (h + 0x9e3779b9) | 0;
    this.s0 = fmix32(h);
    h = (h + 0x9e3779b9) | 0;
    this.s1 = fmix32(h);
    h = (h + 0x9e3779b9) | 0;
    this.s2 = fmix32(h);
    h = (h + 0x9e3779b9) | 0;
    this.s3 = fmix32(h);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    this.spare = NaN;
  }

  /** Next unsigned 32-bit word. */
  nextU32(): number {
    const s1 = this.s1;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r >>> 0;
  }

  /** Uniform in the open interval (0, 1). */
  uniform(): number {
    return (this.nextU32() + 0.5) / TWO_POW_32;
  }

  /** Standard normal N(0, 1) by Box-Muller; the second value of each pair is returned on the next call. */
  normal(): number {
    const s = this.spare;
    if (!Number.isNaN(s)) {
      this.spare = NaN;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const th = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
