import { describe, expect, it } from 'vitest';
import { csvColumnMap, decodeCsvRecord } from '../../../src/ingest/csv-decoder.ts';
import type { SlotSchema } from '../../../src/ingest/source.ts';

const SLOTS: SlotSchema = { numeric: ['n1', 'n2'], categorical: ['c1', 'c2'] };

describe('csvColumnMap', () => {
  it('maps trimmed header names to positions, -1 for absent columns; extra columns ignored', () => {
    const m = csvColumnMap(['c2', ' label ', 'ts', 'n1 ', 'extra'], SLOTS, 'f:1');
    expect(m).toMatchObject({ label: 1, ts: 2, numeric: [3, -1], categorical: [-1, 0] });
    expect(csvColumnMap(['label', 'n2'], SLOTS, 'f:1')).toMatchObject({
      label: 0,
      ts: -1,
      numeric: [-1, 1],
      categorical: [-1, -1],
    });
  });

  it('a header without label is missing_label, a duplicate column bad_header', () => {
    expect(() => csvColumnMap(['n1', 'c1'], SLOTS, 'f:1')).toThrow(
      expect.objectContaining({ code: 'LIONCTR_BAD_INPUT', reason: 'missing_label', where: 'f:1' }),
    );
    expect(() => csvColumnMap(['label', 'n1', ' n1'], SLOTS, 'f:1')).toThrow(
      expect.objectContaining({ code: 'LIONCTR_BAD_INPUT', reason: 'bad_header' }),
    );
  });
});

describe('decodeCsvRecord', () => {
  const map = csvColumnMap(['c2', 'label', 'ts', 'n1', 'n2'], SLOTS, 'f:1');

  it('decodes label, ts, numeric and categorical cells; empty and absent cells are missing', () => {
    expect(decodeCsvRecord(['x', '1', '1000', '2.5', ''], map, 'f:2')).toEqual({
      label: 1,
      eventTimeMs: 1000,
      numeric: [2.5, null],
      categorical: [null, 'x'],
    });
    expect(decodeCsvRecord(['', '0', '', '', '-1e3'], map, 'f:3')).toEqual({
      label: 0,
      eventTimeMs: null,
      numeric: [null, -1000],
      categorical: [null, null],
    });
  });

  it('no ts column: eventTimeMs null', () => {
    const m = csvColumnMap(['label', 'c1'], SLOTS, 'f:1');
    expect(decodeCsvRecord(['1', 'q'], m, 'f:2')).toEqual({
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
    expect(at(['x', '1', '1000', '2.5'])).toMatchObject({ reason: 'wrong_field_count', where: 'f:5' });
    expect(at(['x', 'true', '', '', ''])).toMatchObject({ reason: 'bad_label' });
    expect(at(['x', '', '', '', ''])).toMatchObject({ reason: 'missing_label' });
    expect(at(['x', '1', '', '', 'abc'])).toMatchObject({
      reason: 'bad_number',
      message: expect.stringContaining('n2:'),
    });
    expect(at(['x', '1', 'soon', '', ''])).toMatchObject({
      reason: 'bad_number',
      message: expect.stringContaining('ts:'),
    });
  });
});
