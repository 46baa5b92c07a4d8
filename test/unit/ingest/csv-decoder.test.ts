import { describe, expect, it } from 'vitest';
import { csvColumnMap, decodeCsvRecord } from '../../../src/ingest/csv-decoder.ts';
import { defaultInputColumns } from '../../../src/ingest/input-columns.ts';
import type { SlotSchema } from '../../../src/ingest/source.ts';

const SLOTS: SlotSchema = { numeric: ['n1', 'n2'], categorical: ['c1', 'c2'] };
const T = 1700000000000;

describe('csvColumnMap', () => {
  it('maps trimmed header names to positions; a column listed in schema.ignore is allowed', () => {
    const cols = { ...defaultInputColumns(), ignore: ['extra'] };
    const m = csvColumnMap(['c2', ' label ', 'ts', 'n1 ', 'extra', 'c1', 'n2'], SLOTS, 'f:1', cols);
    expect(m).toMatchObject({ label: 1, ts: 2, numeric: [3, 6], categorical: [5, 0] });
    expect(csvColumnMap(['label', 'n2', 'n1', 'c1', 'c2'], SLOTS, 'f:1')).toMatchObject({
      label: 0,
      ts: -1,
      numeric: [2, 1],
      categorical: [3, 4],
    });
  });

  it('refuses a file lacking slots or carrying unconfigured columns, naming them all', () => {
    const err = (h: string[]) => {
      try {
        csvColumnMap(h, SLOTS, 'f:1');
      } catch (e) {
        return e as { code: string; reason: string; message: string };
      }
      throw new Error('no error');
    };
    const e = err(['label', 'n1', 'c2', 'extra', 'other']);
    expect(e).toMatchObject({ code: 'LIONCTR_BAD_INPUT', reason: 'bad_header' });
    expect(e.message).toMatch(/lacks 2 slot\(s\) of the schema: "n2", "c1"/);
    expect(e.message).toMatch(/carries 2 column\(s\) the config does not name: "extra", "other"/);
    expect(err(['label', 'n1', 'n2', 'c1', 'c2', 'x']).message).not.toMatch(/lacks/);
    // a file holding none of the model's slots (eval printed auc 0.5 with exit 0)
    expect(err(['label', 'a', 'b']).message).toMatch(/lacks 4 slot\(s\).*carries 2 column/);
  });

  it('a header without label is missing_label, a duplicate column bad_header with the header-less hint', () => {
    expect(() => csvColumnMap(['n1', 'c1'], SLOTS, 'f:1')).toThrow(
      expect.objectContaining({ code: 'LIONCTR_BAD_INPUT', reason: 'missing_label', where: 'f:1' }),
    );
    expect(() => csvColumnMap(['label', 'n1', ' n1'], SLOTS, 'f:1')).toThrow(
      expect.objectContaining({ code: 'LIONCTR_BAD_INPUT', reason: 'bad_header' }),
    );
    expect(() => csvColumnMap(['0', '1', '0'], SLOTS, 'f:1')).toThrow(/source\.csv\.header false/);
  });

  it('the label column is schema.label; it may not also be a slot', () => {
    const cols = { ...defaultInputColumns(), label: 'click' };
    expect(csvColumnMap(['click', 'n1', 'n2', 'c1', 'c2'], SLOTS, 'f:1', cols).label).toBe(0);
    const both = { ...cols, label: 'c1' };
    expect(() => csvColumnMap(['c1', 'n1', 'n2', 'c2'], SLOTS, 'f:1', both)).toThrow(/also a slot/);
  });
});

describe('decodeCsvRecord', () => {
  const map = csvColumnMap(['c2', 'label', 'ts', 'n1', 'n2', 'c1'], SLOTS, 'f:1');

  it('decodes label, ts, numeric and categorical cells; empty cells are missing', () => {
    expect(decodeCsvRecord(['x', '1', `${T}`, '2.5', '', ''], map, 'f:2')).toEqual({
      label: 1,
      eventTimeMs: T,
      numeric: [2.5, null],
      categorical: [null, 'x'],
    });
    expect(decodeCsvRecord(['', '0', '', '', '-1e3', 'q'], map, 'f:3')).toEqual({
      label: 0,
      eventTimeMs: null,
      numeric: [null, -1000],
      categorical: ['q', null],
    });
  });

  it('no ts column: eventTimeMs null', () => {
    const m = csvColumnMap(['label', 'c1', 'n1', 'n2', 'c2'], SLOTS, 'f:1');
    expect(decodeCsvRecord(['1', 'q', '', '', ''], m, 'f:2')).toEqual({
      label: 1,
      eventTimeMs: null,
      numeric: [null, null],
      categorical: ['q', null],
    });
  });

  it('typed errors: wrong_field_count, bad_label, missing_label, bad_number naming the column', () => {
    const at = (rec: string[]) => {
      try {
        decodeCsvRecord(rec, map, 'f:5');
      } catch (e) {
        return e as { reason: string; message: string; where: string };
      }
      throw new Error(`no error for ${JSON.stringify(rec)}`);
    };
    expect(at(['x', '1', `${T}`, '2.5'])).toMatchObject({ reason: 'wrong_field_count', where: 'f:5' });
    expect(at(['x', 'true', '', '', '', ''])).toMatchObject({ reason: 'bad_label' });
    expect(at(['x', '', '', '', '', ''])).toMatchObject({ reason: 'missing_label' });
    expect(at(['x', '1', '', '', 'abc', ''])).toMatchObject({
      reason: 'bad_number',
      message: expect.stringContaining('n2:'),
    });
    expect(at(['x', '1', 'soon', '', '', ''])).toMatchObject({
      reason: 'bad_number',
      message: expect.stringContaining('ts:'),
    });
  });
});
