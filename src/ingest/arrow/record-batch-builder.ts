/**
 * The record-batch builder of the ingest contract: one Arrow RecordBatch of click events
 * per call, with the columns (names owned by src/features/columns.ts) in contract order:
 *   label Int8 (0|1, never null), event_time_ms Float64 (null = unknown),
 *   <numeric slots> Float64 (null = missing), <categorical slots> Utf8 (null = missing),
 *   source_partition Int32, source_offset Float64, [bayes_p Float64: synthetic only],
 *   [sample_weight Float64: only when a row pushed carries a weight (schema.weight); 1 where a row has none].
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
import {
  BAYES_P_COLUMN,
  EVENT_TIME_COLUMN,
  LABEL_COLUMN,
  OFFSET_COLUMN,
  PARTITION_COLUMN,
  SOURCE_METADATA_KEY,
  WEIGHT_COLUMN,
} from '../../features/columns.ts';
import type { DecodedRow, SlotSchema } from '../source.ts';
import { Float64ColumnBuilder, Utf8ColumnBuilder } from './column-builders.ts';

const schemaCache = new WeakMap<SlotSchema, Map<number, Schema>>();

/**
 * The Arrow schema of batches for `slots` (cached per SlotSchema object), with the
 * `bayes_p` column at the end when `opts.bayesP`, then `sample_weight` when `opts.weight`.
 * Throws TypeError for duplicate column names (a slot named like a fixed column: a
 * programming/config error).
 */
export function arrowSchemaFor(slots: SlotSchema, opts: { bayesP?: boolean; weight?: boolean } = {}): Schema {
  const withP = !!opts.bayesP;
  const key = (withP ? 1 : 0) + (opts.weight ? 2 : 0);
  let byFlag = schemaCache.get(slots);
  if (!byFlag) {
    byFlag = new Map();
    schemaCache.set(slots, byFlag);
  }
  const hit = byFlag.get(key);
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
  if (opts.weight) fields.push(new Field(WEIGHT_COLUMN, new Float64(), false));
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f.name)) throw new TypeError(`duplicate column name ${f.name} in slot schema`);
    seen.add(f.name);
  }
  const schema = new Schema(fields);
  byFlag.set(key, schema);
  return schema;
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
  /** Sample weights, made when the first row with a weight is pushed (earlier rows: 1). */
  weight: Float64Array | null = null;
  /** Rows completed so far. */
  length = 0;

  constructor(
    readonly slots: SlotSchema,
    readonly capacity: number,
    opts: { bayesP?: boolean; categoricalBytesHint?: number; source?: string } = {},
  ) {
    this.source = opts.source;
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`batch capacity must be a positive integer, got ${capacity}`);
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
    if (row.weight !== undefined && !this.weight) this.weight = new Float64Array(this.capacity).fill(1);
    if (this.weight) this.weight[i] = row.weight ?? 1;
    this.length = i + 1;
  }

  /** Marks one row complete after its cells were written through the column builders directly. */
  endRow(): void {
    this.length++;
  }

  /** The RecordBatch of the rows added (0 rows allowed). Throws RangeError when columns disagree on length. */
  finish(): RecordBatch {
    const n = this.length;
    const cut = <T extends Int8Array | Int32Array | Float64Array>(a: T): T =>
      n === this.capacity ? a : (a.slice(0, n) as T);
    const children: Data<DataType>[] = [
      makeData({ type: new Int8(), length: n, nullCount: 0, data: cut(this.label) }),
      this.eventTime.finish(),
      ...this.numeric.map((b) => b.finish()),
      ...this.categorical.map((b) => b.finish()),
      makeData({ type: new Int32(), length: n, nullCount: 0, data: cut(this.partition) }),
      makeData({ type: new Float64(), length: n, nullCount: 0, data: cut(this.offset) }),
    ];
    if (this.bayesP) children.push(makeData({ type: new Float64(), length: n, nullCount: 0, data: cut(this.bayesP) }));
    if (this.weight) children.push(makeData({ type: new Float64(), length: n, nullCount: 0, data: cut(this.weight) }));
    for (const c of children) {
      if (c.length !== n) throw new RangeError(`column length ${c.length} != batch length ${n}`);
    }
    let schema = arrowSchemaFor(this.slots, { bayesP: !!this.bayesP, weight: !!this.weight });
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
