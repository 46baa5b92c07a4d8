import { describe, expect, it } from 'vitest';
import { criteoSlots } from '../../../src/features/schema.ts';
import { decodeCriteoLine } from '../../../src/ingest/criteo-decoder.ts';

/** A Criteo line whose I<k> is `num(k)` and C<k> is `cat(k)` (k 1-based). */
const line = (label: string, num: (k: number) => string, cat: (k: number) => string): string =>
  [
    label,
    ...Array.from({ length: 13 }, (_, i) => num(i + 1)),
    ...Array.from({ length: 26 }, (_, i) => cat(i + 1)),
  ].join('\t');

describe('decodeCriteoLine', () => {
  it('maps field 1+k to I<k+1> and field 14+k to C<k+1>, empty = missing, a trailing CR dropped', () => {
    const row = decodeCriteoLine(
      `${line(
        '1',
        (k) => (k === 3 ? '' : String(k * 10)),
        (k) => (k === 26 ? '' : `v${k}`),
      )}\r`,
      'f:1',
    );
    expect(row.label).toBe(1);
    expect(row.eventTimeMs).toBeNull();
    expect(row.numeric).toEqual([10, 20, null, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130]);
    expect(row.categorical).toEqual([...Array.from({ length: 25 }, (_, i) => `v${i + 1}`), null]);
    expect(row.numeric).toHaveLength(criteoSlots().numeric.length);
    expect(row.categorical).toHaveLength(criteoSlots().categorical.length);
  });

  it('a bad number names its slot (I<k>) and place', () => {
    expect(() =>
      decodeCriteoLine(
        line(
          '0',
          (k) => (k === 5 ? '1x' : '1'),
          () => 'a',
        ),
        'f:7',
      ),
    ).toThrow(
      expect.objectContaining({
        code: 'LIONCTR_BAD_INPUT',
        reason: 'bad_number',
        where: 'f:7',
        message: expect.stringContaining('I5:'),
      }),
    );
  });

  it('typed errors for the field count and the label', () => {
    expect(() =>
      decodeCriteoLine(
        `${line(
          '1',
          () => '1',
          () => 'a',
        )}\tx`,
        'f:1',
      ),
    ).toThrow(expect.objectContaining({ reason: 'wrong_field_count' }));
    expect(() =>
      decodeCriteoLine(
        line(
          '',
          () => '1',
          () => 'a',
        ),
        'f:1',
      ),
    ).toThrow(expect.objectContaining({ reason: 'missing_label' }));
    expect(() =>
      decodeCriteoLine(
        line(
          '2',
          () => '1',
          () => 'a',
        ),
        'f:1',
      ),
    ).toThrow(expect.objectContaining({ reason: 'bad_label' }));
  });
});
