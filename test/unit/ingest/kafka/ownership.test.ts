// Hand-over marks between trainers of one group (ownership.ts): encoding, decoding of
// foreign metadata, who waits for whom, and the start offset.
import { describe, expect, it } from 'vitest';
import { decodeMark, encodeMark, handOver, startOffset } from '../../../../src/ingest/kafka/ownership.ts';

describe('ownership marks', () => {
  it('round-trips a mark', () => {
    for (const state of ['held', 'released'] as const) {
      expect(decodeMark(encodeMark({ owner: 'm-1', state }))).toEqual({ owner: 'm-1', state });
    }
  });

  it('reads metadata not written by lionctr as no mark', () => {
    for (const m of [
      null,
      undefined,
      '',
      'not json',
      '{}',
      '{"lionctr":2,"owner":"a","state":"held"}',
      '{"lionctr":1,"owner":3,"state":"held"}',
      '{"lionctr":1,"owner":"a","state":"gone"}',
      '[1]',
    ]) {
      expect(decodeMark(m), String(m)).toBeNull();
    }
  });

  it('waits only for a live other member that still holds the partition', () => {
    const live = new Set(['a', 'b']);
    expect(handOver({ owner: 'a', state: 'held' }, 'b', live)).toBe('wait');
    expect(handOver({ owner: 'a', state: 'released' }, 'b', live)).toBe('start');
    expect(handOver({ owner: 'b', state: 'held' }, 'b', live)).toBe('start'); // our own mark
    expect(handOver({ owner: 'gone', state: 'held' }, 'b', live)).toBe('start'); // owner left the group
    expect(handOver(null, 'b', live)).toBe('start');
  });

  it('starts at the largest known non-negative offset', () => {
    expect(startOffset(3, 9, 5)).toBe(9);
    expect(startOffset(null, undefined, -1)).toBeNull();
    expect(startOffset(-1, 0)).toBe(0);
    expect(startOffset()).toBeNull();
  });
});
