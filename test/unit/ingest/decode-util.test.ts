import { describe, expect, it } from 'vitest';
import { LionctrError } from '../../../src/errors.ts';
import { badInput, parseLabelCell, parseNumericCell } from '../../../src/ingest/decode-util.ts';

describe('parseNumericCell', () => {
  it('reads decimal numbers: sign, fraction, exponent, surrounding spaces', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['17', 17],
      ['-3', -3],
      ['+4', 4],
      ['2.5', 2.5],
      ['.5', 0.5],
      ['5.', 5],
      ['-1e3', -1000],
      ['1E-2', 0.01],
      [' 7 ', 7],
      ['\t8', 8],
    ];
    for (const [s, v] of cases) expect(parseNumericCell(s, 'I1', 'f:1'), s).toBe(v);
  });

  it('empty and blank cells are missing (null)', () => {
    expect(parseNumericCell('', 'I1', 'f:1')).toBeNull();
    expect(parseNumericCell('   ', 'I1', 'f:1')).toBeNull();
  });

  it('rejects what Number() would accept or turn into NaN/Infinity: bad_number naming the field and place', () => {
    for (const s of ['abc', '1x', 'NaN', 'Infinity', '-Infinity', '0x10', '0b1', '1e400', '-', '1 2', '1,5']) {
      let err: unknown;
      try {
        parseNumericCell(s, 'I7', 'f:9');
      } catch (e) {
        err = e;
      }
      expect(err, s).toBeInstanceOf(LionctrError);
      expect(err, s).toMatchObject({ code: 'LIONCTR_BAD_INPUT', reason: 'bad_number', where: 'f:9' });
      expect((err as Error).message, s).toContain('I7: not a number');
    }
  });
});

describe('parseLabelCell', () => {
  it('takes exactly 0 or 1, spaces allowed', () => {
    expect(parseLabelCell('0', 'f:1')).toBe(0);
    expect(parseLabelCell('1', 'f:1')).toBe(1);
    expect(parseLabelCell(' 1\r', 'f:1')).toBe(1);
    expect(parseLabelCell(' 0 ', 'f:1')).toBe(0);
  });

  it('missing or empty -> missing_label; anything else -> bad_label', () => {
    expect(() => parseLabelCell(undefined, 'f:1')).toThrow(expect.objectContaining({ reason: 'missing_label' }));
    expect(() => parseLabelCell('  ', 'f:1')).toThrow(expect.objectContaining({ reason: 'missing_label' }));
    for (const s of ['2', '-1', '0.0', '01', 'true', 'yes']) {
      expect(() => parseLabelCell(s, 'f:1'), s).toThrow(
        expect.objectContaining({ code: 'LIONCTR_BAD_INPUT', reason: 'bad_label' }),
      );
    }
  });
});

describe('badInput', () => {
  it('is a LIONCTR_BAD_INPUT with reason, place (in the message) and cause', () => {
    const cause = new Error('ENOENT');
    const e = badInput('missing_file', 'cannot read', '/x.tsv', cause);
    expect(e).toBeInstanceOf(LionctrError);
    expect(e).toMatchObject({ code: 'LIONCTR_BAD_INPUT', reason: 'missing_file', where: '/x.tsv', cause });
    expect(e.message).toBe('cannot read (at /x.tsv)');
  });
});
