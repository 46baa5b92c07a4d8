import { DataType, type RecordBatch, type Vector } from 'apache-arrow';
import { LionctrError } from '../errors.ts';
import {
  BAYES_P_COLUMN,
  EVENT_TIME_COLUMN,
  LABEL_COLUMN,
  OFFSET_COLUMN,
  PARTITION_COLUMN,
  WEIGHT_COLUMN,
} from './columns.ts';
import type { FeatureBatch } from './feature-batch.ts';
import { ByteIds, fnv1aBytes } from './byte-ids.ts';
import { SlotHasher } from './hash.ts';
import { NUMERIC_BUCKET, numericBucket, numericDense, parseNumber } from './numeric.ts';
import { embeddingSlots, type FeatureSchema } from './schema.ts';

/** Largest request a serving call may featurize. */
export const MAX_INSTANCES = 10_000;

/** Log buckets whose ids are cached per numeric slot: b0 .. b1023 (x up to e^32). */
const LOG_BUCKETS = 1024;

/**
 * Turns Arrow record batches (training) or JSON instances (serving) into FeatureBatches
 * with the same hashing and transforms, so training and serving can never disagree.
 */
export class Featurizer {
  readonly schema: FeatureSchema;
  /** F: embedding slots (categorical, then numeric). */
  readonly numSlots: number;
  /** N: numeric slots. */
  readonly numNumeric: number;
  private readonly hashers: SlotHasher[];
  /** Per categorical slot: ids by the value's UTF-8 bytes in an Arrow Utf8 column (utf8Ids), made on first use. */
  private readonly byteIds: (ByteIds | undefined)[] = [];
  private readonly slotKinds: Map<string, 'numeric' | 'categorical'>;
  /** Per numeric slot: the ids of log buckets 0..LOG_BUCKETS-1 seen so far (bucketInto). */
  private readonly logBuckets: { known: Uint8Array; hi: Uint32Array; lo: Uint32Array }[];

  constructor(schema: FeatureSchema) {
    this.schema = schema;
    const slots = embeddingSlots(schema);
    this.numSlots = slots.length;
    this.numNumeric = schema.numeric.length;
    this.hashers = slots.map((s) => new SlotHasher(s));
    this.logBuckets = schema.numeric.map(() => ({
      known: new Uint8Array(LOG_BUCKETS),
      hi: new Uint32Array(LOG_BUCKETS),
      lo: new Uint32Array(LOG_BUCKETS),
    }));
    this.slotKinds = new Map([
      ...schema.numeric.map((s) => [s, 'numeric'] as const),
      ...schema.categorical.map((s) => [s, 'categorical'] as const),
    ]);
  }

  /**
   * Featurizes one Arrow batch with columns label (Int8), event_time_ms, one column per
   * slot, source_partition, source_offset and optionally bayes_p and sample_weight (names:
   * ./columns.ts; weights 1 without sample_weight).
   * @throws LionctrError LIONCTR_BAD_INPUT when a slot column is absent.
   */
  fromRecordBatch(rb: RecordBatch): FeatureBatch {
    const B = rb.numRows;
    const out = this.alloc(B);
    const col = (name: string): Vector => {
      const v = rb.getChild(name);
      if (!v) throw new LionctrError('LIONCTR_BAD_INPUT', `record batch has no column "${name}"`, { where: name });
      return v;
    };
    const label = col(LABEL_COLUMN);
    const weight = rb.getChild(WEIGHT_COLUMN);
    for (let b = 0; b < B; b++) {
      out.labels[b] = Number(label.get(b));
      out.weights[b] = weight ? Number(weight.get(b) ?? 1) : 1;
    }
    const ts = rb.getChild(EVENT_TIME_COLUMN);
    if (ts)
      for (let b = 0; b < B; b++) {
        const t = ts.get(b);
        out.eventTimeMs[b] = t === null ? NaN : Number(t);
      }
    else out.eventTimeMs.fill(NaN);
    const part = rb.getChild(PARTITION_COLUMN);
    const off = rb.getChild(OFFSET_COLUMN);
    for (let b = 0; b < B; b++) {
      out.partitions[b] = part ? Number(part.get(b) ?? 0) : 0;
      out.offsets[b] = off ? Number(off.get(b) ?? b) : b;
    }
    const bayes = rb.getChild(BAYES_P_COLUMN);
    if (bayes) {
      out.bayesP = new Float64Array(B);
      for (let b = 0; b < B; b++) out.bayesP[b] = Number(bayes.get(b));
    }
    const { categorical, numeric } = this.schema;
    const F = this.numSlots,
      N = this.numNumeric;
    for (let c = 0; c < categorical.length; c++) {
      const v = col(categorical[c]);
      const h = this.hashers[c];
      if (DataType.isUtf8(v.type)) {
        this.utf8Ids(v, c, out);
        continue;
      }
      for (let b = 0; b < B; b++) {
        const x = v.get(b);
        h.hashInto(x === null || x === '' ? null : String(x), out.idHi, out.idLo, b * F + c);
      }
    }
    for (let n = 0; n < N; n++) {
      const v = col(numeric[n]);
      const f = categorical.length + n;
      for (let b = 0; b < B; b++) {
        const raw = v.get(b);
        const x = raw === null ? null : Number(raw);
        out.dense[b * N + n] = numericDense(x);
        this.bucketInto(n, x, out.idHi, out.idLo, b * F + f);
      }
    }
    return out;
  }

  /**
   * Featurizes serving instances `{slot: value}`; absent slots and nulls are missing.
   * Labels are 0. Numeric slots take numbers or numeric strings; categorical slots take
   * strings or numbers.
   * @throws LionctrError LIONCTR_BAD_REQUEST naming `instances[i].slot` for a non-object
   *   instance, an unknown slot or a value of the wrong type; or when there are 0 or more
   *   than MAX_INSTANCES instances.
   */
  fromInstances(instances: unknown): FeatureBatch {
    if (!Array.isArray(instances))
      throw new LionctrError('LIONCTR_BAD_REQUEST', '"instances" must be an array of objects', { where: 'instances' });
    if (instances.length === 0)
      throw new LionctrError('LIONCTR_BAD_REQUEST', '"instances" is empty', { where: 'instances' });
    if (instances.length > MAX_INSTANCES)
      throw new LionctrError('LIONCTR_BAD_REQUEST', `too many instances: ${instances.length} > ${MAX_INSTANCES}`, {
        where: 'instances',
      });
    const B = instances.length;
    const { categorical, numeric } = this.schema;
    const out = this.servingBatch(B);
    for (let b = 0; b < B; b++) {
      const inst = instances[b];
      if (inst === null || typeof inst !== 'object' || Array.isArray(inst)) {
        throw new LionctrError('LIONCTR_BAD_REQUEST', 'each instance must be an object of {slot: value}', {
          where: `instances[${b}]`,
        });
      }
      const rec = inst as Record<string, unknown>;
      for (const key in rec) {
        if (!this.slotKinds.has(key))
          throw new LionctrError('LIONCTR_BAD_REQUEST', `unknown slot "${key}"`, { where: `instances[${b}].${key}` });
      }
      for (let c = 0; c < categorical.length; c++) this.putCategorical(out, b, c, rec[categorical[c]]);
      for (let n = 0; n < numeric.length; n++) this.putNumeric(out, b, n, rec[numeric[n]]);
    }
    return out;
  }

  /**
   * A serving batch of B examples to fill with putCategorical / putNumeric (every slot of every
   * example must be put): labels 0, weights 1, offsets 0..B-1, no event time.
   */
  servingBatch(B: number): FeatureBatch {
    const out = this.alloc(B);
    out.eventTimeMs.fill(NaN);
    out.weights.fill(1);
    for (let b = 0; b < B; b++) out.offsets[b] = b;
    return out;
  }

  /**
   * The ids of categorical slot c from its Arrow Utf8 column `v` (every row b into out.idHi/idLo
   * at b * F + c): looked up by each value's bytes in the column (ByteIds), without decoding it;
   * a value not cached is hashed from its bytes, XXH64(utf8(value), seed(slot)) as hash.ts states
   * (SlotHasher.hashBytesInto), and cached; null and '' are missing. These are the ids a JSON
   * instance gets for the same text (fromInstances). The general loop decoded each value with
   * Arrow's Vector.get first, whose UTF-8 decoder drops a leading U+FEFF: a value starting with
   * one got another id in training than in serving.
   */
  private utf8Ids(v: Vector, c: number, out: FeatureBatch): void {
    const F = this.numSlots,
      h = this.hashers[c],
      hi = out.idHi,
      lo = out.idLo;
    let cache = this.byteIds[c];
    if (!cache) {
      cache = new ByteIds();
      this.byteIds[c] = cache;
    }
    let b = 0;
    for (const d of v.data) {
      const bytes = d.values as Uint8Array,
        offs = d.valueOffsets as Int32Array,
        bitmap = d.nullable && d.nullCount > 0 ? d.nullBitmap : null,
        o = d.offset;
      for (let r = 0; r < d.length; r++, b++) {
        const i = b * F + c;
        const p = o + r;
        const s = offs[r],
          e = offs[r + 1];
        if ((bitmap && (bitmap[p >> 3] & (1 << (p & 7))) === 0) || s === e) {
          h.hashInto(null, hi, lo, i);
          continue;
        }
        const fh = fnv1aBytes(bytes, s, e);
        const k = cache.find(bytes, s, e, fh);
        if (k >= 0) {
          hi[i] = cache.hi[k];
          lo[i] = cache.lo[k];
          continue;
        }
        h.hashBytesInto(bytes, s, e, hi, lo, i);
        cache.add(bytes, s, e, fh, hi[i], lo[i]);
      }
    }
  }

  /**
   * Writes categorical slot c (schema.categorical[c]) of example b from its raw value `x`:
   * undefined, null and "" are missing; strings are hashed as they are, finite numbers as String(x).
   * @throws LionctrError LIONCTR_BAD_REQUEST naming `instances[b].<slot>` for any other value.
   */
  putCategorical(out: FeatureBatch, b: number, c: number, x: unknown): void {
    let s: string | null;
    if (x === undefined || x === null || x === '') s = null;
    else if (typeof x === 'string') s = x;
    else if (typeof x === 'number' && Number.isFinite(x)) s = String(x);
    else
      throw new LionctrError('LIONCTR_BAD_REQUEST', `categorical slot must be a string or number, got ${typeof x}`, {
        where: `instances[${b}].${this.schema.categorical[c]}`,
      });
    this.hashers[c].hashInto(s, out.idHi, out.idLo, b * this.numSlots + c);
  }

  /**
   * Writes numeric slot n (schema.numeric[n]) of example b from its raw value `x`: undefined,
   * null and "" are missing; finite numbers are taken, strings as training reads them (parseNumber).
   * @throws LionctrError LIONCTR_BAD_REQUEST naming `instances[b].<slot>` for any other value.
   */
  putNumeric(out: FeatureBatch, b: number, n: number, x: unknown): void {
    let v: number | null | undefined;
    if (x === undefined || x === null) v = null;
    else if (typeof x === 'number') v = Number.isFinite(x) ? x : undefined;
    else if (typeof x === 'string') v = parseNumber(x);
    if (v === undefined)
      throw new LionctrError(
        'LIONCTR_BAD_REQUEST',
        `numeric slot must be a finite number, got ${typeof x === 'number' ? String(x) : JSON.stringify(x)}`,
        { where: `instances[${b}].${this.schema.numeric[n]}` },
      );
    out.dense[b * this.numNumeric + n] = numericDense(v);
    this.bucketInto(n, v, out.idHi, out.idLo, b * this.numSlots + this.schema.categorical.length + n);
  }

  /**
   * Writes the id of numeric slot n's bucket of `v` at [i]: hasher.hashInto(numericBucket(v)),
   * with the ids of the log buckets (v > threshold) cached by bucket number, so the common case
   * builds no token string.
   */
  private bucketInto(n: number, v: number | null, hi: Uint32Array, lo: Uint32Array, i: number): void {
    const hasher = this.hashers[this.schema.categorical.length + n];
    if (v === null || !(v > NUMERIC_BUCKET.threshold)) {
      hasher.hashInto(numericBucket(v), hi, lo, i);
      return;
    }
    const k = Math.floor(Math.log(v) ** 2); // numericBucket's `b<k>`
    const c = this.logBuckets[n];
    if (k < LOG_BUCKETS && c.known[k]) {
      hi[i] = c.hi[k];
      lo[i] = c.lo[k];
      return;
    }
    hasher.hashInto(numericBucket(v), hi, lo, i);
    if (k < LOG_BUCKETS) {
      c.known[k] = 1;
      c.hi[k] = hi[i];
      c.lo[k] = lo[i];
    }
  }

  private alloc(B: number): FeatureBatch {
    const F = this.numSlots,
      N = this.numNumeric;
    return {
      size: B,
      labels: new Float32Array(B),
      weights: new Float32Array(B),
      dense: new Float32Array(B * N),
      idHi: new Uint32Array(B * F),
      idLo: new Uint32Array(B * F),
      eventTimeMs: new Float64Array(B),
      partitions: new Int32Array(B),
      offsets: new Float64Array(B),
    };
  }
}
