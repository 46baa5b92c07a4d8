import { describe, expect, it } from 'vitest';
import { Float64, Int32, Int8, Utf8, type RecordBatch } from 'apache-arrow';
import {
  BAYES_P_COLUMN,
  EVENT_TIME_COLUMN,
  LABEL_COLUMN,
  OFFSET_COLUMN,
  PARTITION_COLUMN,
  SOURCE_METADATA_KEY,
} from '../../../../src/features/columns.ts';
import {
  arrowSchemaFor,
  RecordBatchBuilder,
  rowsToRecordBatch,
} from '../../../../src/ingest/arrow/record-batch-builder.ts';
import type { DecodedRow, SlotSchema } from '../../../../src/ingest/source.ts';

const SLOTS: SlotSchema = { numeric: ['n1', 'n2'], categorical: ['c1'] };
const row = (label: 0 | 1, t: number | null, n1: number | null, n2: number | null, c1: string | null): DecodedRow => ({
  label,
  eventTimeMs: t,
  numeric: [n1, n2],
  categorical: [c1],
});
const column = (b: RecordBatch, name: string): unknown[] => [...b.getChild(name)!];

describe('RecordBatchBuilder', () => {
  it('writes the contract columns in order with their types, partition and offset per row', () => {
    const b = new RecordBatchBuilder(SLOTS, 4);
    b.pushRow(row(1, 5, 1.5, null, 'a'), 3, 100);
    b.pushRow(row(0, null, null, -2, null), 4, 101);
    expect(b.full).toBe(false);
    const rb = b.finish();
    expect(rb.schema.fields.map((f) => f.name)).toEqual([
      LABEL_COLUMN,
      EVENT_TIME_COLUMN,
      'n1',
      'n2',
      'c1',
      PARTITION_COLUMN,
      OFFSET_COLUMN,
    ]);
    expect(rb.schema.fields.map((f) => f.type.constructor)).toEqual([
      Int8,
      Float64,
      Float64,
      Float64,
      Utf8,
      Int32,
      Float64,
    ]);
    expect(rb.schema.fields.map((f) => f.nullable)).toEqual([false, true, true, true, true, false, false]);
    expect(rb.numRows).toBe(2);
    expect(column(rb, LABEL_COLUMN)).toEqual([1, 0]);
    expect(column(rb, EVENT_TIME_COLUMN)).toEqual([5, null]);
    expect(column(rb, 'n1')).toEqual([1.5, null]);
    expect(column(rb, 'n2')).toEqual([null, -2]);
    expect(column(rb, 'c1')).toEqual(['a', null]);
    expect(column(rb, PARTITION_COLUMN)).toEqual([3, 4]);
    expect(column(rb, OFFSET_COLUMN)).toEqual([100, 101]);
    expect(rb.getChild('n1')!.nullCount).toBe(1);
    expect(rb.schema.metadata.size).toBe(0);
  });

  it('bayes_p last when asked; the source name in the schema metadata', () => {
    const b = new RecordBatchBuilder(SLOTS, 2, { bayesP: true, source: 'kafka:clicks' });
    b.pushRow(row(1, null, 1, 2, 'x'), 0, 7, 0.25);
    b.pushRow(row(0, null, 1, 2, 'y'), 0, 8);
    expect(b.full).toBe(true);
    const rb = b.finish();
    expect(rb.schema.fields.at(-1)!.name).toBe(BAYES_P_COLUMN);
    expect(column(rb, BAYES_P_COLUMN)).toEqual([0.25, NaN]);
    expect(rb.schema.metadata.get(SOURCE_METADATA_KEY)).toBe('kafka:clicks');
  });

  it('column writes plus endRow (the synthetic path) give the same batch as pushRow', () => {
    const rows = [row(1, 10, 1, null, 'p'), row(0, 20, 2, 3, 'q')];
    const a = new RecordBatchBuilder(SLOTS, 2);
    rows.forEach((r, i) => {
      a.label[i] = r.label;
      a.eventTime.push(r.eventTimeMs);
      a.numeric.forEach((c, k) => {
        c.push(r.numeric[k]);
      });
      a.categorical.forEach((c, k) => {
        c.push(r.categorical[k]);
      });
      a.partition[i] = 0;
      a.offset[i] = i;
      a.endRow();
    });
    const viaColumns = a.finish();
    const viaRows = rowsToRecordBatch(SLOTS, rows, { offsets: [0, 1] });
    for (const f of viaRows.schema.fields) expect(column(viaColumns, f.name), f.name).toEqual(column(viaRows, f.name));
  });

  it('0 rows is a valid batch', () => {
    const rb = new RecordBatchBuilder(SLOTS, 3).finish();
    expect(rb.numRows).toBe(0);
    expect(rb.schema.fields).toHaveLength(7);
  });

  it('errors: bad capacity, pushRow past capacity, columns of unequal length', () => {
    expect(() => new RecordBatchBuilder(SLOTS, 0)).toThrow(RangeError);
    expect(() => new RecordBatchBuilder(SLOTS, 1.5)).toThrow(RangeError);
    const b = new RecordBatchBuilder(SLOTS, 1);
    b.pushRow(row(0, null, null, null, null), 0, 1);
    expect(() => b.pushRow(row(0, null, null, null, null), 0, 2)).toThrow(RangeError);
    const c = new RecordBatchBuilder(SLOTS, 2);
    c.endRow(); // a row whose cells were never written
    expect(() => c.finish()).toThrow(/column length 0 != batch length 1/);
  });
});

describe('arrowSchemaFor and rowsToRecordBatch', () => {
  it('caches the schema per slot-schema object and flag', () => {
    expect(arrowSchemaFor(SLOTS)).toBe(arrowSchemaFor(SLOTS));
    expect(arrowSchemaFor(SLOTS, { bayesP: true })).not.toBe(arrowSchemaFor(SLOTS));
  });

  it('rejects a slot named like a fixed column (TypeError)', () => {
    expect(() => arrowSchemaFor({ numeric: [OFFSET_COLUMN], categorical: [] })).toThrow(TypeError);
    expect(() => arrowSchemaFor({ numeric: ['a'], categorical: ['a'] })).toThrow(TypeError);
  });

  it('rowsToRecordBatch: partition default 0, offsets and bayes_p per row', () => {
    const rb = rowsToRecordBatch(SLOTS, [row(1, null, 1, 2, 'a'), row(0, null, 3, 4, 'b')], {
      offsets: [9, 12],
      bayesP: [0.1, 0.2],
    });
    expect(column(rb, PARTITION_COLUMN)).toEqual([0, 0]);
    expect(column(rb, OFFSET_COLUMN)).toEqual([9, 12]);
    expect(column(rb, BAYES_P_COLUMN)).toEqual([0.1, 0.2]);
  });
});
