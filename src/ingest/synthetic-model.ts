/**
 * The planted click model of the synthetic source (recipe fixed: figures are compared
 * across sessions):
 *  - categorical slots C1..C26, vocabulary V_i = round(10^(1 + 5 i / 25)), i = 0..25
 *    (10 .. 10^6), values Zipf(s = 1.1) over ranks 1..V_i; the value string is the rank;
 *  - numeric slots I1..I13: x = floor(exp(N(1.5, 1.2^2))), never missing;
 *  - logit = -4 + sum_slots w_slot[value] + sum_numeric u_slot[numericBucket(x)]
 *            + sum over pairs (C1,C2), (C1,C3), (C2,C4), (C3,C5) of t_pair[a][b],
 *    every weight drawn once from N(0, 0.25^2) with the seed.
 * Weights are drawn in this order from one xoshiro128** stream keyed by the seed:
 * w_C1..w_C26 (rank 1..V), u_I1..u_I13 (bucket index 0..NUM_BUCKETS-1), then the four
 * pair tables (row-major, a-rank outer).
 */
import { numericBucket } from '../features/numeric.ts';
import { CRITEO_CATEGORICAL, CRITEO_NUMERIC } from '../features/schema.ts';
import { fmix32 } from '../features/mix32.ts';
import { Xoshiro128 } from './synthetic-prng.ts';

/** Numeric slots of the synthetic stream: Criteo's I1..I13 (criteoSlots() of features/schema.ts). */
export const SYN_NUMERIC = CRITEO_NUMERIC;
/** Categorical slots of the synthetic stream: Criteo's C1..C26. */
export const SYN_CATEGORICAL = CRITEO_CATEGORICAL;
export const ZIPF_S = 1.1;
export const NUMERIC_MU = 1.5;
export const NUMERIC_SIGMA = 1.2;
export const BIAS = -4.0;
export const WEIGHT_STD = 0.25;
/** Interaction pairs as 0-based categorical slot indexes: (C1,C2), (C1,C3), (C2,C4), (C3,C5). */
export const PAIRS: ReadonlyArray<readonly [number, number]> = [
  [0, 1],
  [0, 2],
  [1, 3],
  [2, 4],
];
/** Vocabulary sizes V_i of C1..C26. */
export const VOCAB_SIZES: readonly number[] = Array.from({ length: SYN_CATEGORICAL }, (_, i) =>
  Math.round(10 ** (1 + (5 * i) / 25)),
);

/**
 * Numeric bucket tokens as dense indexes: '=0','=1','=2' -> 0,1,2 and 'b<k>' -> 3 + k
 * (k = floor(ln(x)^2)), capped at NUM_BUCKETS - 1 (k >= 1021 needs x > e^31, never drawn).
 */
export const NUM_BUCKETS = 3 + 1021;

/** Index of a numericBucket() token (see NUM_BUCKETS); throws RangeError for tokens the generator cannot produce. */
export function bucketTokenIndex(token: string): number {
  if (token === '=0') return 0;
  if (token === '=1') return 1;
  if (token === '=2') return 2;
  if (token.charCodeAt(0) === 98 /* b */) return Math.min(3 + Number(token.slice(1)), NUM_BUCKETS - 1);
  throw new RangeError(`unexpected numeric bucket token ${token}`);
}

const BUCKET_LUT_SIZE = 1 << 16;
let bucketLut: Uint16Array | null = null;

/** Bucket index of a non-negative integer count x, via numericBucket() (table for x < 65536). */
export function bucketIndex(x: number): number {
  if (x < BUCKET_LUT_SIZE) {
    if (!bucketLut) {
      bucketLut = new Uint16Array(BUCKET_LUT_SIZE);
      for (let v = 0; v < BUCKET_LUT_SIZE; v++) bucketLut[v] = bucketTokenIndex(numericBucket(v)!);
    }
    return bucketLut[x];
  }
  return bucketTokenIndex(numericBucket(x)!);
}

/** Inverse-CDF table of a Zipf(ZIPF_S) law over ranks 1..V (see zipfRank). */
export interface ZipfTable {
  /** cdf[k-1] = P(rank <= k); the last entry is exactly 1. */
  cdf: Float64Array;
  /** guide[j] = first index i with cdf[i] >= j / G (G = guide.length - 1): narrows the search. */
  guide: Int32Array;
}

const zipfCache = new Map<number, ZipfTable>();

/** The Zipf(ZIPF_S) table over ranks 1..V (cached per V). */
export function zipfTable(V: number): ZipfTable {
  let z = zipfCache.get(V);
  if (z) return z;
  const cdf = new Float64Array(V);
  let s = 0;
  for (let k = 1; k <= V; k++) cdf[k - 1] = s += k ** -ZIPF_S;
  for (let k = 0; k < V; k++) cdf[k] /= s;
  cdf[V - 1] = 1;
  const G = Math.max(1024, V);
  const guide = new Int32Array(G + 1);
  let i = 0;
  for (let j = 0; j <= G; j++) {
    while (cdf[i] < j / G) i++;
    guide[j] = i;
  }
  z = { cdf, guide };
  zipfCache.set(V, z);
  return z;
}

/**
 * A Zipf draw: the 1-based rank k for uniform u in (0, 1), the smallest k with
 * cdf[k-1] >= u (inverse CDF), by binary search inside the guide-table interval.
 */
export function zipfRank(z: ZipfTable, u: number): number {
  const cdf = z.cdf;
  const guide = z.guide;
  const g = (u * (guide.length - 1)) | 0;
  let lo = guide[g];
  let hi = guide[g + 1];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return lo + 1;
}

/** The weight tables of one seed. */
export interface PlantedModel {
  seed: number;
  /** 32-bit key of the seed used to key per-example streams. */
  seedKey: number;
  /** w[slot][rank - 1] for C1..C26. */
  cat: Float64Array[];
  /** u[slot][bucket index] for I1..I13. */
  num: Float64Array[];
  /** t[pair][(rankA - 1) * V_b + (rankB - 1)] for PAIRS. */
  pair: Float64Array[];
  /** Zipf tables of C1..C26. */
  zipf: ZipfTable[];
}

/** 32-bit key of a seed (any safe integer). Throws RangeError for a non-integer seed. */
export function seedKey(seed: number): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  return fmix32(lo ^ fmix32(hi ^ 0x243f6a88));
}

const modelCache = new Map<number, PlantedModel>();

/** The planted model of `seed` (built once per seed, ~23 MB of weights plus ~23 MB of shared Zipf tables; cached). */
export function plantedModel(seed: number): PlantedModel {
  const hit = modelCache.get(seed);
  if (hit) return hit;
  const key = seedKey(seed);
  const rng = new Xoshiro128(key, 0x77656967 /* 'weig' */);
  const draw = (n: number): Float64Array => {
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = WEIGHT_STD * rng.normal();
    return a;
  };
  const cat = VOCAB_SIZES.map((V) => draw(V));
  const num = Array.from({ length: SYN_NUMERIC }, () => draw(NUM_BUCKETS));
  const pair = PAIRS.map(([a, b]) => draw(VOCAB_SIZES[a] * VOCAB_SIZES[b]));
  const model: PlantedModel = { seed, seedKey: key, cat, num, pair, zipf: VOCAB_SIZES.map(zipfTable) };
  modelCache.set(seed, model);
  return model;
}
