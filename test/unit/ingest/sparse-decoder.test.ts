import { describe, expect, it, vi } from 'vitest';
import { createSparseDecoder, parseSparseLabel } from '../../../src/ingest/sparse-decoder.ts';
import { createMessageDecoder } from '../../../src/ingest/kafka/message-decoder.ts';
import type { SlotSchema } from '../../../src/ingest/source.ts';

const SLOTS: SlotSchema = { numeric: ['n1', 'n2'], categorical: ['c1', 'c2'] };

const reason = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as { reason?: string }).reason;
  }
  return undefined;
};

describe('sparse labels', () => {
  it('maps 1 and +1 to 1, 0 and -1 to 0, and refuses anything else', () => {
    expect([parseSparseLabel('1', 'x'), parseSparseLabel('+1', 'x')]).toEqual([1, 1]);
    expect([parseSparseLabel('0', 'x'), parseSparseLabel('-1', 'x')]).toEqual([0, 0]);
    for (const t of ['2', '0.5', '1.0', 'yes', '-2']) expect(reason(() => parseSparseLabel(t, 'x'))).toBe('bad_label');
    expect(reason(() => parseSparseLabel('3:1', 'x'))).toBe('missing_label');
  });
});

describe('libffm', () => {
  const ffm = createSparseDecoder('libffm', SLOTS);
  it('maps field k to slot k of numeric then categorical: numeric takes val, categorical the index', () => {
    expect(ffm('1 0:0:3.5 2:17:1 3:0042:1', 'f:1')).toEqual({
      label: 1,
      eventTimeMs: null,
      numeric: [3.5, null],
      categorical: ['17', '42'],
    });
    expect(ffm('-1\t1:9:-2  2:5:0', 'f:2')).toEqual({
      label: 0,
      eventTimeMs: null,
      numeric: [null, -2],
      categorical: [null, null],
    });
  });
  it('counts a malformed line by its reason', () => {
    expect(reason(() => ffm('1 0:1', 'f'))).toBe('bad_feature');
    expect(reason(() => ffm('1 a:1:1', 'f'))).toBe('bad_feature');
    expect(reason(() => ffm('1 0:-1:1', 'f'))).toBe('bad_feature');
    expect(reason(() => ffm('1 0:1:x', 'f'))).toBe('bad_number');
    expect(reason(() => ffm('1 0:1:', 'f'))).toBe('bad_number');
    expect(reason(() => ffm('1 4:1:1', 'f'))).toBe('unknown_field');
    expect(reason(() => ffm('1 2:1:1 2:3:1', 'f'))).toBe('duplicate_field');
  });
  it('says once per slot that a categorical value other than 0/1 is not used', () => {
    const heard = vi.fn();
    const d = createSparseDecoder('libffm', SLOTS, { onDroppedValue: heard });
    expect(d('1 2:7:0.25', 'f:1').categorical).toEqual(['7', null]);
    d('1 2:8:0.5', 'f:2');
    expect(heard).toHaveBeenCalledTimes(1);
    expect(heard).toHaveBeenCalledWith('c1', 'f:1');
  });
});

describe('libsvm', () => {
  it('reads index i as field i by default', () => {
    const d = createSparseDecoder('libsvm', SLOTS);
    expect(d('+1 0:1.5 1:2 3:1', 'f')).toEqual({
      label: 1,
      eventTimeMs: null,
      numeric: [1.5, 2],
      categorical: [null, '3'],
    });
    expect(reason(() => d('1 4:1', 'f'))).toBe('unknown_field');
    expect(d('0 0:7 # user 12, 9:9', 'f').numeric).toEqual([7, null]);
  });
  it('maps index ranges to fields with fieldStarts', () => {
    const d = createSparseDecoder('libsvm', SLOTS, { fieldStarts: [1, 2, 3, 1000] });
    expect(d('0 1:4 2:7 999:1 123456:1', 'f')).toEqual({
      label: 0,
      eventTimeMs: null,
      numeric: [4, 7],
      categorical: ['999', '123456'],
    });
    expect(reason(() => d('0 0:1', 'f'))).toBe('unknown_field');
    expect(reason(() => d('0 3:1 4:1', 'f'))).toBe('duplicate_field');
    expect(() => createSparseDecoder('libsvm', SLOTS, { fieldStarts: [3, 3] })).toThrow(TypeError);
  });
  it('is a Kafka message format too, bad messages counted by reason', () => {
    const m = createMessageDecoder('libsvm', SLOTS, 1000);
    const ok = m(Buffer.from('1 0:2 2:1'), 1234, 't/0@1');
    expect(ok).toEqual({
      ok: true,
      row: { label: 1, eventTimeMs: 1234, numeric: [2, null], categorical: ['2', null] },
    });
    const bad = m(Buffer.from('1 0:2 0:3'), 1234, 't/0@2');
    expect(bad.ok ? '' : bad.reason).toBe('duplicate_field');
    const f = createMessageDecoder('libffm', SLOTS, 1000)(Buffer.from('0 3:11:1'), 5, 't/0@3');
    expect(f.ok && f.row.categorical).toEqual([null, '11']);
  });
});
