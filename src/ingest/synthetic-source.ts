/**
 * The embedded default click stream: examples drawn from the planted model of
 * synthetic-model.ts, with their true click probability in the `bayes_p` column.
 *
 * Resuming is O(1): example n's randomness comes only from (seed, n) (a xoshiro128**
 * stream keyed by the seed and n), so the stream from startOffset = N equals the tail of
 * the stream from 0. Per example the draws are, in order: 26 uniforms for C1..C26 (Zipf
 * by inverse CDF), 7 Box-Muller pairs for I1..I13 (I1 = cos part of pair 1, I2 = sin part,
 * ..., I13 = cos part of pair 7), then one uniform u for the label (label = u < p).
 * event_time_ms = Date.UTC(2026, 0, 1) + n * 10; source_partition 0; source_offset n.
 */
import type { RecordBatch } from 'apache-arrow';
import { LionctrError } from '../errors.ts';
import { RecordBatchBuilder, type SlotSchema, type Source } from './source.ts';
import { Xoshiro128 } from './synthetic-prng.ts';
import {
  BIAS,
  bucketIndex,
  NUMERIC_MU,
  NUMERIC_SIGMA,
  PAIRS,
  plantedModel,
  SYN_CATEGORICAL,
  SYN_NUMERIC,
  VOCAB_SIZES,
  zipfRank,
} from './synthetic-model.ts';

/** Event time of example 0, ms since the epoch. */
export const SYNTHETIC_START_MS = Date.UTC(2026, 0, 1);
/** Event-time step between consecutive examples, ms. */
export const SYNTHETIC_STEP_MS = 10;

/** Options of createSyntheticSource. */
export interface SyntheticSourceOptions {
  /** Seed of the planted model and of the examples (safe integer, default 1). */
  seed?: number;
  /** Number of examples to yield (from startOffset); default unlimited. */
  limit?: number;
  /** 0-based index of the first example (to resume); default 0. */
  startOffset?: number;
}

/** The slot schema of the synthetic source: numeric I1..I13, categorical C1..C26. */
export function syntheticSchema(): SlotSchema {
  return {
    numeric: Array.from({ length: SYN_NUMERIC }, (_, i) => `I${i + 1}`),
    categorical: Array.from({ length: SYN_CATEGORICAL }, (_, i) => `C${i + 1}`),
  };
}

/**
 * A Source of planted-model examples; batches carry the extra `bayes_p` column. Each
 * batches() call starts again at startOffset and yields `limit` examples (or forever),
 * handing control to the event loop (setImmediate) between batches so timers and abort
 * signals fire. stats().rows counts examples yielded; stats().bad is always {}.
 * The weights are built on the first call for a seed (~0.2 s) and cached.
 * Throws LIONCTR_BAD_CONFIG for a non-integer seed or a negative/non-integer limit or
 * startOffset (and from batches() for a bad batchSize).
 */
export function createSyntheticSource(opts: SyntheticSourceOptions = {}): Source & { schema: SlotSchema } {
  const seed = opts.seed ?? 1;
  const start = opts.startOffset ?? 0;
  const limit = opts.limit ?? Infinity;
  if (!Number.isSafeInteger(seed)) throw new LionctrError('LIONCTR_BAD_CONFIG', `seed must be a safe integer, got ${seed}`, { where: 'seed' });
  if (!Number.isSafeInteger(start) || start < 0) throw new LionctrError('LIONCTR_BAD_CONFIG', `startOffset must be a non-negative integer, got ${start}`, { where: 'startOffset' });
  if (!(limit === Infinity || (Number.isSafeInteger(limit) && limit >= 0))) throw new LionctrError('LIONCTR_BAD_CONFIG', `limit must be a non-negative integer, got ${limit}`, { where: 'limit' });
  const schema = syntheticSchema();
  let rows = 0;
  return {
    name: `synthetic(seed=${seed})`,
    schema,
    stats: () => ({ rows, bad: {} }),
    async *batches({ batchSize, signal }): AsyncIterable<RecordBatch> {
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new LionctrError('LIONCTR_BAD_CONFIG', `batchSize must be a positive integer, got ${batchSize}`, { where: 'batchSize' });
      const end = start + limit;
      for (let n = start; n < end; ) {
        if (signal?.aborted) return;
        const count = Math.min(batchSize, end - n);
        const batch = generateBatch(schema, seed, n, count);
        n += count;
        rows += count;
        yield batch;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
  };
}

/**
 * Examples first .. first+count-1 of `seed` as one RecordBatch with `schema`'s columns
 * plus bayes_p (schema must be syntheticSchema()-shaped: 13 numeric, 26 categorical).
 */
export function generateBatch(schema: SlotSchema, seed: number, first: number, count: number): RecordBatch {
  const m = plantedModel(seed);
  const b = new RecordBatchBuilder(schema, count, { bayesP: true, categoricalBytesHint: count * 4 });
  const rng = new Xoshiro128();
  const ranks = new Int32Array(SYN_CATEGORICAL);
  const { cat, num, pair, zipf } = m;
  const catCols = b.categorical;
  const numCols = b.numeric;
  const label = b.label;
  const offset = b.offset;
  const bayesP = b.bayesP!;
  const TWO_PI = 2 * Math.PI;
  for (let i = 0; i < count; i++) {
    const n = first + i;
    // Key the example's stream by (seed, n): low word of n, and the seed mixed with the high word.
    rng.reseed(n >>> 0, m.seedKey ^ Math.imul(Math.floor(n / 4294967296) + 1, 0x2545f491));
    let logit = BIAS;
    for (let s = 0; s < SYN_CATEGORICAL; s++) {
      const r = zipfRank(zipf[s], rng.uniform());
      ranks[s] = r;
      logit += cat[s][r - 1];
      catCols[s].pushUint(r);
    }
    for (let s = 0; s < SYN_NUMERIC; s += 2) {
      const rad = Math.sqrt(-2 * Math.log(rng.uniform()));
      const th = TWO_PI * rng.uniform();
      const x0 = Math.floor(Math.exp(NUMERIC_MU + NUMERIC_SIGMA * rad * Math.cos(th)));
      numCols[s].pushValue(x0);
      logit += num[s][bucketIndex(x0)];
      if (s + 1 < SYN_NUMERIC) {
        const x1 = Math.floor(Math.exp(NUMERIC_MU + NUMERIC_SIGMA * rad * Math.sin(th)));
        numCols[s + 1].pushValue(x1);
        logit += num[s + 1][bucketIndex(x1)];
      }
    }
    for (let p = 0; p < PAIRS.length; p++) {
      const [a, c] = PAIRS[p];
      logit += pair[p][(ranks[a] - 1) * VOCAB_SIZES[c] + (ranks[c] - 1)];
    }
    const prob = 1 / (1 + Math.exp(-logit));
    label[i] = rng.uniform() < prob ? 1 : 0;
    bayesP[i] = prob;
    b.eventTime.pushValue(SYNTHETIC_START_MS + n * SYNTHETIC_STEP_MS);
    offset[i] = n;
    b.endRow();
  }
  return b.finish();
}
