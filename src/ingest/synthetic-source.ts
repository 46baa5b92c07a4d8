/**
 * The embedded default click stream: examples drawn from the planted model of
 * synthetic-model.ts, with their true click probability in the `bayes_p` column.
 *
 * Resuming is O(1): example n's randomness comes only from (seed, n) (a xoshiro128**
 * stream keyed by the seed and n), so the stream from startOffset = N equals the tail of
 * the stream from 0. Per example the draws are, in order: 26 uniforms for C1..C26 (Zipf
 * by inverse CDF), 7 Box-Muller pairs for I1..I13 (I1 = cos part of pair 1, I2 = sin part,
 * ..., I13 = cos part of pair 7), then one uniform u for the label (label = u < p).
 * event_time_ms: with eventTime `simulated`, Date.UTC(2026, 0, 1) + n * 10 (deterministic: tests,
 * resumes, eviction by event time); with `wallclock` (what `lionctr run` uses by default,
 * `source.synthetic.eventTime`), the wall time at which the example's batch was drawn, so that
 * freshness metrics read as they would on a live stream. source_partition 0; source_offset n.
 */
import type { RecordBatch } from 'apache-arrow';
import { LionctrError } from '../errors.ts';
import { criteoSlots } from '../features/schema.ts';
import { SYNTHETIC_EVENT_TIMES, type SyntheticEventTime } from './config.ts';
import type { SlotSchema, Source } from './source.ts';
import { RecordBatchBuilder } from './arrow/record-batch-builder.ts';
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
  /**
   * Event times: `simulated` (default) = SYNTHETIC_START_MS + n * SYNTHETIC_STEP_MS, the same on every
   * run; `wallclock` = Date.now() when the batch is drawn (every example of a batch gets that time).
   */
  eventTime?: SyntheticEventTime;
  /**
   * An ever-growing vocabulary: in every example the last `freshIdSlots` categorical slots (0..26,
   * default 0) carry an id never seen before (rank V_s + 1 + n for example n) instead of their
   * planted value; labels stay those of the planted values, so fresh ids carry no signal (a long
   * tail that only costs rows: for the memory budget's soak).
   */
  freshIdSlots?: number;
}

/** The name of the synthetic source of `seed`, `synthetic(seed=<seed>)`: its Source.name, the source of its keys. */
export const syntheticSourceName = (seed: number): string => `synthetic(seed=${seed})`;

/**
 * A Source of planted-model examples; batches carry the extra `bayes_p` column. Each
 * batches() call starts again at startOffset and yields `limit` examples (or forever),
 * handing control to the event loop (setImmediate) between batches so timers and abort
 * signals fire. stats().rows counts examples yielded; stats().bad is always {}.
 * The weights are built on the first call for a seed (~0.2 s) and cached.
 * Throws LIONCTR_BAD_CONFIG for a non-integer seed or a negative/non-integer limit or
 * startOffset or an unknown eventTime (and from batches() for a bad batchSize).
 */
export function createSyntheticSource(opts: SyntheticSourceOptions = {}): Source & { schema: SlotSchema } {
  const seed = opts.seed ?? 1;
  const start = opts.startOffset ?? 0;
  const limit = opts.limit ?? Infinity;
  const eventTime = opts.eventTime ?? 'simulated';
  const fresh = opts.freshIdSlots ?? 0;
  if (!Number.isInteger(fresh) || fresh < 0 || fresh > SYN_CATEGORICAL)
    throw new LionctrError(
      'LIONCTR_BAD_CONFIG',
      `freshIdSlots must be an integer 0..${SYN_CATEGORICAL}, got ${fresh}`,
      {
        where: 'freshIdSlots',
      },
    );
  if (!SYNTHETIC_EVENT_TIMES.includes(eventTime))
    throw new LionctrError('LIONCTR_BAD_CONFIG', `eventTime must be wallclock or simulated, got ${eventTime}`, {
      where: 'eventTime',
    });
  if (!Number.isSafeInteger(seed))
    throw new LionctrError('LIONCTR_BAD_CONFIG', `seed must be a safe integer, got ${seed}`, { where: 'seed' });
  if (!Number.isSafeInteger(start) || start < 0)
    throw new LionctrError('LIONCTR_BAD_CONFIG', `startOffset must be a non-negative integer, got ${start}`, {
      where: 'startOffset',
    });
  if (!(limit === Infinity || (Number.isSafeInteger(limit) && limit >= 0)))
    throw new LionctrError('LIONCTR_BAD_CONFIG', `limit must be a non-negative integer, got ${limit}`, {
      where: 'limit',
    });
  const schema: SlotSchema = criteoSlots();
  let rows = 0;
  return {
    name: syntheticSourceName(seed),
    schema,
    stats: () => ({ rows, bad: {} }),
    async *batches({ batchSize, signal }): AsyncIterable<RecordBatch> {
      if (!Number.isInteger(batchSize) || batchSize < 1)
        throw new LionctrError('LIONCTR_BAD_CONFIG', `batchSize must be a positive integer, got ${batchSize}`, {
          where: 'batchSize',
        });
      const end = start + limit;
      for (let n = start; n < end; ) {
        if (signal?.aborted) return;
        const count = Math.min(batchSize, end - n);
        const now = eventTime === 'wallclock' ? Date.now() : undefined;
        const batch = generateBatch(schema, seed, n, count, now, fresh);
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
 * plus bayes_p (schema must be criteoSlots()-shaped: 13 numeric, 26 categorical). Event times:
 * `nowMs` for every example when given (ms since the epoch), else the simulated ones; the last
 * `freshIdSlots` categorical slots carry never-seen ids (SyntheticSourceOptions.freshIdSlots).
 */
export function generateBatch(
  schema: SlotSchema,
  seed: number,
  first: number,
  count: number,
  nowMs?: number,
  freshIdSlots = 0,
): RecordBatch {
  const m = plantedModel(seed);
  const b = new RecordBatchBuilder(schema, count, { bayesP: true, categoricalBytesHint: count * 4 });
  const { cat, num, pair, zipf } = m;
  // Phase 1, example-major: each example's uniforms from its own (seed, n) stream.
  const U = new Float64Array(count * DRAWS);
  const rng = new Xoshiro128();
  for (let i = 0, o = 0; i < count; i++) {
    const n = first + i;
    rng.reseed(n >>> 0, m.seedKey ^ Math.imul(Math.floor(n / 4294967296) + 1, 0x2545f491));
    for (let k = 0; k < DRAWS; k++) U[o++] = rng.uniform();
  }
  // Phase 2, slot-major (independent iterations: better memory-level parallelism on the big tables).
  const logit = new Float64Array(count).fill(BIAS);
  const ranks = new Int32Array(SYN_CATEGORICAL * count);
  for (let s = 0; s < SYN_CATEGORICAL; s++) {
    const z = zipf[s];
    const w = cat[s];
    const base = s * count;
    for (let i = 0, o = s; i < count; i++, o += DRAWS) {
      const r = zipfRank(z, U[o]);
      ranks[base + i] = r;
      logit[i] += w[r - 1];
    }
    if (s < SYN_CATEGORICAL - freshIdSlots) b.categorical[s].pushUints(ranks, base, count);
    else {
      // fresh ids beyond the slot's vocabulary (the planted ranks stay in `ranks` for the pair terms)
      const ids = new Int32Array(count);
      for (let i = 0; i < count; i++) ids[i] = (VOCAB_SIZES[s] + 1 + ((first + i) % 2 ** 30)) | 0;
      b.categorical[s].pushUints(ids, 0, count);
    }
  }
  const TWO_PI = 2 * Math.PI;
  const xs0 = new Float64Array(count);
  const xs1 = new Float64Array(count);
  for (let s = 0; s < SYN_NUMERIC; s += 2) {
    const u0 = num[s];
    const second = s + 1 < SYN_NUMERIC;
    const u1 = second ? num[s + 1] : u0;
    for (let i = 0, o = SYN_CATEGORICAL + s; i < count; i++, o += DRAWS) {
      const rad = NUMERIC_SIGMA * Math.sqrt(-2 * Math.log(U[o]));
      const th = TWO_PI * U[o + 1];
      const x0 = Math.floor(Math.exp(NUMERIC_MU + rad * Math.cos(th)));
      xs0[i] = x0;
      let l = u0[bucketIndex(x0)];
      if (second) {
        const x1 = Math.floor(Math.exp(NUMERIC_MU + rad * Math.sin(th)));
        xs1[i] = x1;
        l += u1[bucketIndex(x1)];
      }
      logit[i] += l;
    }
    b.numeric[s].pushValues(xs0, 0, count);
    if (second) b.numeric[s + 1].pushValues(xs1, 0, count);
  }
  for (let p = 0; p < PAIRS.length; p++) {
    const [a, c] = PAIRS[p];
    const t = pair[p];
    const Vc = VOCAB_SIZES[c];
    const ra = a * count;
    const rc = c * count;
    for (let i = 0; i < count; i++) logit[i] += t[(ranks[ra + i] - 1) * Vc + (ranks[rc + i] - 1)];
  }
  const label = b.label;
  const offset = b.offset;
  const bayesP = b.bayesP!;
  for (let i = 0, o = DRAWS - 1; i < count; i++, o += DRAWS) {
    const n = first + i;
    const prob = 1 / (1 + Math.exp(-logit[i]));
    label[i] = U[o] < prob ? 1 : 0;
    bayesP[i] = prob;
    xs0[i] = nowMs ?? SYNTHETIC_START_MS + n * SYNTHETIC_STEP_MS;
    offset[i] = n;
  }
  b.eventTime.pushValues(xs0, 0, count);
  b.length = count;
  return b.finish();
}

/** Uniforms per example: 26 (categorical) + 14 (7 Box-Muller pairs) + 1 (label). */
const DRAWS = SYN_CATEGORICAL + 2 * Math.ceil(SYN_NUMERIC / 2) + 1;
