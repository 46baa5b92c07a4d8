import { describe, expect, it } from 'vitest';
import { makeVector } from 'apache-arrow';
import { Float64ColumnBuilder, Utf8ColumnBuilder } from '../../../../src/ingest/arrow/column-builders.ts';

describe('Float64ColumnBuilder', () => {
  it('push: null, undefined and NaN become nulls; finish cuts to the rows pushed', () => {
    const b = new Float64ColumnBuilder(8);
    for (const v of [1.5, null, -0, undefined, NaN, 1e300]) b.push(v);
    const d = b.finish();
    expect(d.length).toBe(6);
    expect(d.nullCount).toBe(3);
    expect([...makeVector(d)]).toEqual([1.5, null, -0, null, null, 1e300]);
  });

  it('no nulls: no validity bitmap; pushValue is a non-null value', () => {
    const b = new Float64ColumnBuilder(2);
    b.pushValue(3);
    b.pushValue(4);
    const d = b.finish();
    expect(d.nullCount).toBe(0);
    expect(d.nullBitmap?.length ?? 0).toBe(0);
    expect([...makeVector(d)]).toEqual([3, 4]);
  });

  it('pushValues sets the validity of every row across byte boundaries, after a null', () => {
    const src = Float64Array.from({ length: 40 }, (_, i) => i);
    const b = new Float64ColumnBuilder(30);
    b.push(null); // row 0
    b.push(7); // row 1
    b.pushValues(src, 5, 20); // rows 2..21 (crosses bytes 0, 1, 2)
    b.push(null); // row 22
    b.pushValues(src, 0, 7); // rows 23..29
    const v = [...makeVector(b.finish())];
    expect(v).toEqual([null, 7, ...Array.from({ length: 20 }, (_, i) => 5 + i), null, 0, 1, 2, 3, 4, 5, 6]);
  });

  it('pushValues past the capacity throws RangeError', () => {
    const b = new Float64ColumnBuilder(4);
    b.push(1);
    expect(() => b.pushValues(new Float64Array(4), 0, 4)).toThrow(RangeError);
  });
});

describe('Utf8ColumnBuilder', () => {
  it('push: ASCII, multi-byte and empty strings, nulls; grows past its byte hint', () => {
    const b = new Utf8ColumnBuilder(6, 1);
    const long = `${'x'.repeat(300)}é`;
    for (const s of ['abc', null, 'é€x😀', '', undefined, long]) b.push(s);
    const d = b.finish();
    expect(d.nullCount).toBe(2);
    expect([...makeVector(d)]).toEqual(['abc', null, 'é€x😀', '', null, long]);
  });

  it('pushUint and pushUints write decimal strings at every digit-count boundary', () => {
    const vals = [0, 9, 10, 99, 100, 999_999, 1_000_000, 999_999_999, 1_000_000_000, 2 ** 31 - 1];
    const a = new Utf8ColumnBuilder(vals.length);
    for (const v of vals) a.pushUint(v);
    expect([...makeVector(a.finish())]).toEqual(vals.map(String));
    const b = new Utf8ColumnBuilder(vals.length + 1);
    b.pushNull();
    b.pushUints(Int32Array.from([7, ...vals]), 1, vals.length);
    expect([...makeVector(b.finish())]).toEqual([null, ...vals.map(String)]);
  });

  it('pushUints past the capacity throws RangeError', () => {
    const b = new Utf8ColumnBuilder(2);
    expect(() => b.pushUints(Int32Array.from([1, 2, 3]), 0, 3)).toThrow(RangeError);
  });
});
