// The Kafka source's row queue: FIFO order, backpressure (pause above maxRows, resume at
// half), rows put back by a train.maxExamples cut, rows of a revoked partition dropped.
import { describe, expect, it } from 'vitest';
import { RowQueue, type QueuedRow } from '../../../../src/ingest/kafka/row-queue.ts';

const row = (p: number, o: number, at = 0): QueuedRow => ({
  p,
  o,
  at,
  row: { label: 0, eventTimeMs: null, numeric: [], categorical: [] },
});
const rows = (p: number, from: number, n: number) => Array.from({ length: n }, (_, i) => row(p, from + i));
const at = (q: QueuedRow[]) => q.map((r) => `${r.p}@${r.o}`);

function queue(maxRows: number) {
  const calls: string[] = [];
  const q = new RowQueue(maxRows, { pause: () => calls.push('pause'), resume: () => calls.push('resume') });
  return { q, calls };
}

describe('RowQueue', () => {
  it('takes rows in order and tells the oldest row and the first queued offset per partition', () => {
    const { q } = queue(100);
    expect(q.oldestAt()).toBeUndefined();
    q.push([row(0, 5, 111), row(1, 7, 112), row(0, 6, 113)]);
    expect(q.size).toBe(3);
    expect(q.oldestAt()).toBe(111);
    expect(q.firstQueued()).toEqual(
      new Map([
        [0, 5],
        [1, 7],
      ]),
    );
    expect(at(q.take(2))).toEqual(['0@5', '1@7']);
    expect(q.firstQueued()).toEqual(new Map([[0, 6]]));
    expect(q.received).toBe(3);
  });

  it('pauses fetching above maxRows and resumes once at most half are left', () => {
    const { q, calls } = queue(10);
    q.push(rows(0, 0, 10));
    expect(calls).toEqual([]);
    q.push(rows(0, 10, 1));
    q.push(rows(0, 11, 4)); // already paused: not paused again
    expect(calls).toEqual(['pause']);
    expect(q.pauses).toBe(1);
    q.take(9); // 6 left
    expect(calls).toEqual(['pause']);
    q.take(1); // 5 left = half
    expect(calls).toEqual(['pause', 'resume']);
    q.push(rows(0, 15, 6));
    expect(q.pauses).toBe(2);
  });

  it('puts the last n rows of the last take back at the head, in order', () => {
    const { q } = queue(100);
    q.push([row(0, 0), row(1, 0), row(0, 1), row(1, 1), row(0, 2)]);
    q.take(4);
    expect(q.untrained(3)).toEqual(
      new Map([
        [1, 0],
        [0, 1],
      ]),
    );
    expect(at(q.take(10))).toEqual(['1@0', '0@1', '1@1', '0@2']);
    expect(q.untrained(0)).toEqual(new Map());
    expect(q.size).toBe(0);
  });

  it('drops the rows of one partition', () => {
    const { q } = queue(100);
    q.push([row(0, 0), row(1, 0), row(0, 1), row(1, 1)]);
    q.take(1);
    expect(q.drop(1)).toBe(2);
    expect(at(q.take(10))).toEqual(['0@1']);
  });

  it('keeps order across the compaction of taken rows', () => {
    const { q } = queue(1e6);
    q.push(rows(0, 0, 70_000));
    q.take(66_000);
    q.push(rows(0, 70_000, 10));
    expect(at(q.take(2))).toEqual(['0@66000', '0@66001']);
    expect(q.size).toBe(70_010 - 66_002);
    expect(q.firstQueued()).toEqual(new Map([[0, 66_002]]));
  });

  it("wholeMessages grows a take to the end of the last row's message (arrow rows share an offset)", () => {
    const { q } = queue(100);
    q.push([row(0, 5), row(0, 5), row(0, 5), row(0, 6), row(1, 6), row(1, 6)]);
    expect(q.wholeMessages(1)).toBe(3);
    expect(q.wholeMessages(3)).toBe(3);
    expect(q.wholeMessages(4)).toBe(4); // 1@6 is another partition's message
    expect(q.wholeMessages(5)).toBe(6);
    expect(at(q.take(q.wholeMessages(2)))).toEqual(['0@5', '0@5', '0@5']);
    expect(q.wholeMessages(1)).toBe(1);
  });
});
