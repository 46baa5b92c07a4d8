/**
 * The ingest contract: a Source yields Apache Arrow RecordBatches of click events, and a
 * columnar batch builder that writes Arrow buffers directly (typed arrays + validity
 * bitmaps + makeData), which is several times faster than vectorFromArray/makeTable on
 * row arrays (see the ingest report / test/ingest-sources.test.ts).
 *
 * Batch layout (column order is part of the contract):
 *   label Int8 (0|1, never null), event_time_ms Float64 (null = unknown),
 *   <numeric slots> Float64 (null = missing), <categorical slots> Utf8 (null = missing),
 *   source_partition Int32, source_offset Float64, [bayes_p Float64: synthetic only].
 * A builder given a source name puts it in the schema metadata `lionctr.source` (e.g.
 * `kafka:clicks`), so every row's topic, partition and offset are known from the batch.
 */
import {
  Field,
  Float64,
  Int32,
  Int8,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Utf8,
  type Data,
  type DataType,
} from 'apache-arrow';

/** Slot names of a stream, e.g. numeric I1..I13, categorical C1..C26. */
export interface SlotSchema {
  numeric: string[];
  categorical: string[];
}

/** A stream of click events as Arrow RecordBatches (see the module doc for the columns). */
export interface Source {
  /** Human name for logs, e.g. "file:/x/criteo.tsv" or "synthetic(seed=1)". */
  readonly name: string;
  /** Yields batches of at most batchSize rows, in source order, until the source ends (files) or forever (synthetic, unless limit). */
  batches(opts: { batchSize: number; signal?: AbortSignal }): AsyncIterable<RecordBatch>;
  /** Counters of rows read and rows skipped as bad, by reason. */
  stats(): { rows: number; bad: Record<string, number> };
  /**
   * Sources with an external position store (Kafka): true when the source wants a
   * checkpoint soon (it gave up partitions that another trainer waits for). Such a
   * source may yield empty batches (0 rows) while idle so that the trainer gets a turn.
   */
  checkpointWanted?(): boolean;
  /**
   * Called after each durable checkpoint with the trainer's next offsets per position key
   * (`<source name>/<partition>`); a Kafka source commits them to the group here.
   */
  checkpointed?(nextOffsets: Record<string, number>): Promise<void>;
  /**
   * The last `n` rows of the batch just yielded were not trained (a `train.maxExamples` cut):
   * a source whose positions are committed must not count them as done.
   */
  untrained?(n: number): void;
  /** Times fetching paused because too many rows waited for training (backpressure), cumulative. */
  backpressurePauses?(): number;
  /** Consumer lag per partition (messages behind the high watermark), for sources that have one. */
  lag?(): { topic: string; partition: number; lag: number }[];
  /** Releases connections; called once when the trainer is done with the source. */
  close?(): Promise<void>;
}

/** Where a pass starts when training resumes from a checkpoint. */
export interface ResumePoint {
  /** Next offset per position key (`<source name>/<partition>`), from the checkpoint. */
  nextOffsets: Record<string, number>;
  /** Examples of this pass already trained (a `limit` counts from the pass start). */
  passExamples: number;
}

/**
 * One decoded example. `numeric[i]` belongs to schema.numeric[i] (null = missing),
 * `categorical[j]` to schema.categorical[j] (null = missing); eventTimeMs is ms since the
 * epoch or null when the source has no time.
 */
export interface DecodedRow {
  label: 0 | 1;
  eventTimeMs: number | null;
  numeric: (number | null)[];
  categorical: (string | null)[];
}

/** Fixed column names around the slot columns. */
export const LABEL_COLUMN = 'label';
export const EVENT_TIME_COLUMN = 'event_time_ms';
export const PARTITION_COLUMN = 'source_partition';
export const OFFSET_COLUMN = 'source_offset';
export const BAYES_P_COLUMN = 'bayes_p';
/** Schema metadata key holding the source name (e.g. `kafka:<topic>`). */
export const SOURCE_METADATA_KEY = 'lionctr.source';

const schemaCache = new WeakMap<SlotSchema, Map<boolean, Schema>>();

/**
 * The Arrow schema of batches for `slots` (cached per SlotSchema object), with the
 * `bayes_p` column at the end when `opts.bayesP`. Throws TypeError for duplicate column
 * names (a slot named like a fixed column: a programming/config error).
 */
export function arrowSchemaFor(slots: SlotSchema, opts: { bayesP?: boolean } = {}): Schema {
  const withP = !!opts.bayesP;
  let byFlag = schemaCache.get(slots);
  if (!byFlag) schemaCache.set(slots, (byFlag = new Map()));
  const hit = byFlag.get(withP);
  if (hit) return hit;
  const fields: Field[] = [
    new Field(LABEL_COLUMN, new Int8(), false),
    new Field(EVENT_TIME_COLUMN, new Float64(), true),
    ...slots.numeric.map((n) => new Field(n, new Float64(), true)),
    ...slots.categorical.map((n) => new Field(n, new Utf8(), true)),
    new Field(PARTITION_COLUMN, new Int32(), false),
    new Field(OFFSET_COLUMN, new Float64(), false),
  ];
  if (withP) fields.push(new Field(BAYES_P_COLUMN, new Float64(), false));
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f.name)) throw new TypeError(`duplicate column name ${f.name} in slot schema`);
    seen.add(f.name);
  }
  const schema = new Schema(fields);
  byFlag.set(withP, schema);
  return schema;
}

/** Validity bitmap helper: returns [bitmap or undefined when no nulls, nullCount]. */
function finishBitmap(valid: Uint8Array, length: number, nulls: number): Uint8Array | undefined {
  return nulls === 0 ? undefined : valid.slice(0, (length + 7) >> 3);
}

/** Column builder for a nullable Float64 column of fixed capacity (rows). */
export class Float64ColumnBuilder {
  values: Float64Array;
  private valid: Uint8Array;
  private nulls = 0;
  length = 0;
  constructor(readonly capacity: number) {
    this.values = new Float64Array(capacity);
    this.valid = new Uint8Array((capacity + 7) >> 3);
  }
  /** Appends a value; null, undefined and NaN become Arrow nulls. */
  push(v: number | null | undefined): void {
    const i = this.length++;
    if (v === null || v === undefined || v !== v) {
      this.nulls++;
    } else {
      this.values[i] = v;
      this.valid[i >> 3] |= 1 << (i & 7);
    }
  }
  /** Appends a non-null value (no checks; the fast path). */
  pushValue(v: number): void {
    const i = this.length++;
    this.values[i] = v;
    this.valid[i >> 3] |= 1 << (i & 7);
  }
  /** Appends `src[from .. from+count-1]` as non-null values (NaN stays NaN, not null: the fast bulk path). */
  pushValues(src: Float64Array, from: number, count: number): void {
    const i0 = this.length;
    if (i0 + count > this.capacity) throw new RangeError('Float64ColumnBuilder is full');
    this.values.set(src.subarray(from, from + count), i0);
    const valid = this.valid;
    let i = i0;
    const e = i0 + count;
    for (; i < e && (i & 7) !== 0; i++) valid[i >> 3] |= 1 << (i & 7);
    for (; i + 8 <= e; i += 8) valid[i >> 3] = 0xff;
    for (; i < e; i++) valid[i >> 3] |= 1 << (i & 7);
    this.length = e;
  }
  /** The Arrow Data of the rows pushed so far; the builder must not be reused after. */
  finish(): Data<Float64> {
    const n = this.length;
    return makeData({
      type: new Float64(),
      length: n,
      nullCount: this.nulls,
      nullBitmap: finishBitmap(this.valid, n, this.nulls),
      data: n === this.capacity ? this.values : this.values.slice(0, n),
    });
  }
}

const utf8Encoder = new TextEncoder();

/** Column builder for a nullable Utf8 column: bytes written straight into one growing buffer. */
export class Utf8ColumnBuilder {
  private offsets: Int32Array;
  private bytes: Uint8Array;
  private valid: Uint8Array;
  private nulls = 0;
  private pos = 0;
  length = 0;
  constructor(readonly capacity: number, bytesHint = capacity * 8) {
    this.offsets = new Int32Array(capacity + 1);
    this.bytes = new Uint8Array(Math.max(64, bytesHint));
    this.valid = new Uint8Array((capacity + 7) >> 3);
  }
  private grow(need: number): void {
    let cap = this.bytes.length * 2;
    while (cap < need) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.bytes.subarray(0, this.pos));
    this.bytes = b;
  }
  /** Appends a null. */
  pushNull(): void {
    const i = this.length++;
    this.nulls++;
    this.offsets[i + 1] = this.pos;
  }
  /** Appends a string (UTF-8 encoded), or a null for null/undefined. */
  push(s: string | null | undefined): void {
    if (s === null || s === undefined) return this.pushNull();
    const n = s.length;
    let p = this.pos;
    if (p + n * 3 > this.bytes.length) this.grow(p + n * 3);
    const b = this.bytes;
    let k = 0;
    for (; k < n; k++) {
      const c = s.charCodeAt(k);
      if (c >= 0x80) break;
      b[p++] = c;
    }
    if (k < n) p += utf8Encoder.encodeInto(s.slice(k), b.subarray(p)).written;
    this.pos = p;
    const i = this.length++;
    this.valid[i >> 3] |= 1 << (i & 7);
    this.offsets[i + 1] = p;
  }
  /** Appends the decimal string of an integer 0 <= v < 2^31 (e.g. 17 -> "17") without making a string. */
  pushUint(v: number): void {
    let p = this.pos;
    if (p + 12 > this.bytes.length) this.grow(p + 12);
    const b = this.bytes;
    const digits = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 : v < 1000000 ? 6 : v < 10000000 ? 7 : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
    let q = p + digits;
    p = q;
    let t = v | 0;
    do {
      const d = (t / 10) | 0;
      b[--q] = 48 + t - d * 10;
      t = d;
    } while (t > 0);
    this.pos = p;
    const i = this.length++;
    this.valid[i >> 3] |= 1 << (i & 7);
    this.offsets[i + 1] = p;
  }
  /** Appends the decimal strings of `values[from .. from+count-1]` (integers 0 <= v < 2^31), all non-null. */
  pushUints(values: Int32Array, from: number, count: number): void {
    if (this.length + count > this.capacity) throw new RangeError('Utf8ColumnBuilder is full');
    if (this.pos + count * 10 > this.bytes.length) this.grow(this.pos + count * 10);
    const b = this.bytes;
    const offs = this.offsets;
    const valid = this.valid;
    let p = this.pos;
    let i = this.length;
    for (let k = from, e = from + count; k < e; k++, i++) {
      let t = values[k];
      const digits = t < 10 ? 1 : t < 100 ? 2 : t < 1000 ? 3 : t < 10000 ? 4 : t < 100000 ? 5 : t < 1000000 ? 6 : t < 10000000 ? 7 : t < 100000000 ? 8 : t < 1000000000 ? 9 : 10;
      let q = p + digits;
      p = q;
      do {
        const d = (t / 10) | 0;
        b[--q] = 48 + t - d * 10;
        t = d;
      } while (t > 0);
      offs[i + 1] = p;
      valid[i >> 3] |= 1 << (i & 7);
    }
    this.pos = p;
    this.length = i;
  }
  /** The Arrow Data of the rows pushed so far; the builder must not be reused after. */
  finish(): Data<Utf8> {
    const n = this.length;
    return makeData({
      type: new Utf8(),
      length: n,
      nullCount: this.nulls,
      nullBitmap: finishBitmap(this.valid, n, this.nulls),
      valueOffsets: n === this.capacity ? this.offsets : this.offsets.slice(0, n + 1),
      data: this.bytes.slice(0, this.pos),
    });
  }
}

/**
 * Builds one RecordBatch of at most `capacity` rows with the contract's columns for
 * `slots`. Use `pushRow` (decoders) or write the public column builders directly and call
 * `endRow()` per row (synthetic source). `finish()` returns the batch; a builder is
 * single-use (make a new one per batch).
 */
export class RecordBatchBuilder {
  readonly label: Int8Array;
  readonly eventTime: Float64ColumnBuilder;
  readonly numeric: Float64ColumnBuilder[];
  readonly categorical: Utf8ColumnBuilder[];
  readonly partition: Int32Array;
  readonly offset: Float64Array;
  readonly bayesP: Float64Array | null;
  /** Rows completed so far. */
  length = 0;

  constructor(
    readonly slots: SlotSchema,
    readonly capacity: number,
    opts: { bayesP?: boolean; categoricalBytesHint?: number; source?: string } = {},
  ) {
    this.source = opts.source;
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`batch capacity must be a positive integer, got ${capacity}`);
    this.label = new Int8Array(capacity);
    this.eventTime = new Float64ColumnBuilder(capacity);
    this.numeric = slots.numeric.map(() => new Float64ColumnBuilder(capacity));
    this.categorical = slots.categorical.map(() => new Utf8ColumnBuilder(capacity, opts.categoricalBytesHint));
    this.partition = new Int32Array(capacity);
    this.offset = new Float64Array(capacity);
    this.bayesP = opts.bayesP ? new Float64Array(capacity) : null;
  }

  /** Source name for the schema metadata `lionctr.source`, if any. */
  private readonly source?: string;

  /** True when `capacity` rows have been added. */
  get full(): boolean {
    return this.length >= this.capacity;
  }

  /** Appends one decoded row at source position (partition, offset); bayesP only for synthetic builders. */
  pushRow(row: DecodedRow, partition: number, offset: number, bayesP?: number): void {
    const i = this.length;
    if (i >= this.capacity) throw new RangeError('RecordBatchBuilder is full');
    this.label[i] = row.label;
    this.eventTime.push(row.eventTimeMs);
    const num = this.numeric;
    for (let k = 0; k < num.length; k++) num[k].push(row.numeric[k]);
    const cat = this.categorical;
    for (let k = 0; k < cat.length; k++) cat[k].push(row.categorical[k]);
    this.partition[i] = partition;
    this.offset[i] = offset;
    if (this.bayesP) this.bayesP[i] = bayesP ?? NaN;
    this.length = i + 1;
  }

  /** Marks one row complete after its cells were written through the column builders directly. */
  endRow(): void {
    this.length++;
  }

  /** The RecordBatch of the rows added (0 rows allowed). Throws RangeError when columns disagree on length. */
  finish(): RecordBatch {
    const n = this.length;
    const cut = <T extends Int8Array | Int32Array | Float64Array>(a: T): T => (n === this.capacity ? a : (a.slice(0, n) as T));
    const children: Data<DataType>[] = [
      makeData({ type: new Int8(), length: n, nullCount: 0, data: cut(this.label) }),
      this.eventTime.finish(),
      ...this.numeric.map((b) => b.finish()),
      ...this.categorical.map((b) => b.finish()),
      makeData({ type: new Int32(), length: n, nullCount: 0, data: cut(this.partition) }),
      makeData({ type: new Float64(), length: n, nullCount: 0, data: cut(this.offset) }),
    ];
    if (this.bayesP) children.push(makeData({ type: new Float64(), length: n, nullCount: 0, data: cut(this.bayesP) }));
    for (const c of children) {
      if (c.length !== n) throw new RangeError(`column length ${c.length} != batch length ${n}`);
    }
    let schema = arrowSchemaFor(this.slots, { bayesP: !!this.bayesP });
    if (this.source) schema = new Schema(schema.fields, new Map([[SOURCE_METADATA_KEY, this.source]]));
    const data = makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children });
    return new RecordBatch(schema, data);
  }
}

/**
 * Convenience: one RecordBatch from decoded rows. `offsets[i]` is row i's source position,
 * `partition` its partition (default 0); `bayesP` (same length as rows) adds the bayes_p column.
 */
export function rowsToRecordBatch(
  slots: SlotSchema,
  rows: DecodedRow[],
  opts: { offsets: ArrayLike<number>; partition?: number; bayesP?: ArrayLike<number> },
): RecordBatch {
  const b = new RecordBatchBuilder(slots, Math.max(1, rows.length), { bayesP: !!opts.bayesP });
  for (let i = 0; i < rows.length; i++) b.pushRow(rows[i], opts.partition ?? 0, opts.offsets[i], opts.bayesP?.[i]);
  return b.finish();
}
