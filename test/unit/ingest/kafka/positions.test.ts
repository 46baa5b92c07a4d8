// Partition positions of the Kafka source, no broker: where a partition starts, which
// offsets are committed after a checkpoint (exactly-once), releases of revoked partitions,
// topic resets and lag.
import { describe, expect, it } from 'vitest';
import { inRange } from '../../../../src/ingest/kafka/offset-reset.ts';
import { PartitionPositions, plannedStart } from '../../../../src/ingest/kafka/positions.ts';

const SRC = 'kafka:clicks';
const none = new Map<number, number>();
const fq = (...pairs: [number, number][]) => new Map(pairs);

describe('inRange and plannedStart', () => {
  it('moves an out-of-range start like auto.offset.reset', () => {
    expect(inRange(5, { low: 0, high: 10 }, 'earliest')).toBe(5);
    expect(inRange(10, { low: 0, high: 10 }, 'latest')).toBe(10); // the high watermark is in range
    expect(inRange(2, { low: 3, high: 10 }, 'earliest')).toBe(3); // expired: to the policy's end
    expect(inRange(2, { low: 3, high: 10 }, 'latest')).toBe(10);
    expect(inRange(12, { low: 3, high: 10 }, 'earliest')).toBe(3); // recreated: to the policy's end
    expect(inRange(12, { low: 3, high: 10 }, 'latest')).toBe(10);
  });

  it('starts at the largest of committed, checkpoint and handed offsets', () => {
    const r = { low: 0, high: 100 };
    const plan = (committed: number | null, checkpoint: number | null, handed?: number) =>
      plannedStart({ committed, checkpoint, handed }, r, true, null);
    expect(plan(20, 30)).toEqual({ start: 30, durableStart: 30, requested: 30 });
    expect(plan(40, 30)).toEqual({ start: 40, durableStart: 40, requested: 40 });
    // handed raises the start, not the durable start (the mark commit)
    expect(plan(20, null, 25)).toEqual({ start: 25, durableStart: 20, requested: 25 });
  });

  it('with no durable offset: low from the beginning, else the first fetched message, else the end', () => {
    const r = { low: 4, high: 100 };
    const known = { committed: null, checkpoint: undefined, handed: undefined };
    expect(plannedStart(known, r, true, 60).start).toBe(4);
    expect(plannedStart(known, r, false, 60)).toEqual({ start: 60, durableStart: 60, requested: 60 });
    expect(plannedStart(known, r, false, null).start).toBe(100);
  });

  it('an out-of-range start is reset and lowers the durable start', () => {
    const p = plannedStart({ committed: 500, checkpoint: 480, handed: 510 }, { low: 0, high: 7 }, true, null);
    expect(p).toEqual({ start: 0, durableStart: 0, requested: 510 });
    const q = plannedStart({ committed: 2, checkpoint: null, handed: undefined }, { low: 5, high: 7 }, false, null);
    expect(q).toEqual({ start: 5, durableStart: 2, requested: 2 }); // expired records: durable stays lower
  });
});

describe('PartitionPositions', () => {
  it('commits only started partitions, at max(trainer next, floor, checkpoint, oldest queued or position)', () => {
    const s = new PartitionPositions(SRC, { [`${SRC}/1`]: 7 });
    s.assign([0, 1, 2], none);
    s.start(0, 10);
    s.advance(0, 50);
    s.start(1, 7);
    s.advance(1, 9);
    // partition 0 has queued rows from 30; 2 is not started: nothing to commit for it
    const next = s.checkpointed({ [`${SRC}/0`]: 30, [`${SRC}/1`]: 8 });
    const { commits, releasing } = s.commitsAfterCheckpoint(next, fq([0, 30]), false);
    expect(commits).toEqual([
      { partition: 0, offset: 30, state: 'held' },
      { partition: 1, offset: 9, state: 'held' },
    ]);
    expect(releasing).toEqual([]);
    // trailing bad messages (position past the trainer's next, no queued row) are committed past
    expect(s.commitsAfterCheckpoint(next, none, true).commits[0]).toEqual({
      partition: 0,
      offset: 50,
      state: 'released',
    });
  });

  it('never commits below the floor (the start resolved at assignment) or the checkpoint', () => {
    const s = new PartitionPositions(SRC);
    s.assign([0], none);
    s.start(0, 40);
    const next = s.checkpointed({ [`${SRC}/0`]: 12 }); // a stale trainer position below the start
    expect(s.commitsAfterCheckpoint(next, fq([0, 40]), false).commits).toEqual([
      { partition: 0, offset: 40, state: 'held' },
    ]);
    // the floor holds even against a queued row below it (the guard itself, not only the position)
    expect(s.commitsAfterCheckpoint(next, fq([0, 35]), false).commits[0].offset).toBe(40);
    expect(s.known(0).checkpoint).toBe(12);
    s.checkpointed({ [`${SRC}/0`]: 45 });
    expect(s.commitsAfterCheckpoint({}, fq([0, 41]), false).commits[0].offset).toBe(45);
  });

  it('keeps only its own keys as checkpoint offsets', () => {
    const s = new PartitionPositions(SRC);
    s.checkpointed({ 'kafka:other/0': 99, [`${SRC}/3`]: 5 });
    expect(s.known(0).checkpoint).toBeUndefined();
    expect(s.known(3).checkpoint).toBe(5);
  });

  it('releases a revoked started partition at the next checkpoint, at its committable offset then', () => {
    const s = new PartitionPositions(SRC);
    s.assign([0, 1], none);
    s.start(0, 0);
    s.advance(0, 20);
    s.start(1, 0);
    s.advance(1, 5);
    const r = s.assign([1], fq([0, 12])); // rows 12.. of partition 0 were queued: not trained
    expect(r).toEqual({ revoked: [0], seek: [{ partition: 1, offset: 5 }] });
    expect(s.releaseWanted(0)).toBe(true);
    const next = s.checkpointed({ [`${SRC}/0`]: 10, [`${SRC}/1`]: 5 });
    const { commits, releasing } = s.commitsAfterCheckpoint(next, none, false);
    expect(commits).toEqual([
      { partition: 1, offset: 5, state: 'held' },
      { partition: 0, offset: 12, state: 'released' },
    ]);
    expect(releasing).toEqual([0]);
    s.commitFailed(1000);
    expect(s.releaseWanted(1500)).toBe(false); // retried a second after a failed commit
    expect(s.releaseWanted(2000)).toBe(true);
    s.releasesDone(releasing);
    expect(s.releaseWanted(5000)).toBe(false);
    expect(s.commitsAfterCheckpoint(next, none, false).commits).toEqual([{ partition: 1, offset: 5, state: 'held' }]);
  });

  it('does not release a partition regained and lost without being started (its offsets may be stale)', () => {
    const s = new PartitionPositions(SRC);
    s.assign([0], none);
    s.start(0, 0);
    s.advance(0, 10);
    s.assign([], none); // lost, released at 10 ...
    s.assign([0], none); // ... regained before the checkpoint: no release of it any more
    expect(s.releaseWanted(0)).toBe(false);
    s.assign([], none); // lost again without being started
    expect(s.releaseWanted(0)).toBe(false);
    expect(s.commitsAfterCheckpoint({ [`${SRC}/0`]: 10 }, none, false).commits).toEqual([]);
  });

  it('a reset (topic recreated) forgets the old topic, ignores trainer offsets until it trains a new row', () => {
    const s = new PartitionPositions(SRC, { [`${SRC}/0`]: 500 });
    s.assign([0], none);
    s.start(0, 500);
    s.handedTo(0, 501);
    s.reset(0, 0);
    expect(s.known(0)).toEqual({ checkpoint: undefined, handed: undefined });
    const stale = s.checkpointed({ [`${SRC}/0`]: 501 });
    expect(stale).toEqual({});
    expect(s.known(0).checkpoint).toBeUndefined();
    expect(s.commitsAfterCheckpoint(stale, fq([0, 0]), false).commits).toEqual([
      { partition: 0, offset: 0, state: 'held' },
    ]);
    s.handedTo(0, 3);
    expect(s.checkpointed({ [`${SRC}/0`]: 3 })).toEqual({ [`${SRC}/0`]: 3 });
    expect(s.known(0).checkpoint).toBe(3);
  });

  it('rows returned untrained lower the handed offset', () => {
    const s = new PartitionPositions(SRC);
    s.handedTo(2, 40);
    s.returned(2, 31);
    expect(s.known(2).handed).toBe(31);
  });

  it('lag: high watermark minus committable offset, or the expected start of a partition not started', () => {
    const s = new PartitionPositions(SRC);
    s.assign([0, 1, 2, 3], none);
    s.start(0, 0);
    s.advance(0, 90);
    s.setHighWater(0, 100);
    s.estimated(1, 50, 50); // caught up, no batch fetched yet
    s.estimated(2, 30, 10);
    s.setHighWater(3, 5); // high watermark but no start known: no lag yet
    expect(s.lag(fq([0, 80]))).toEqual([
      { partition: 0, lag: 20 },
      { partition: 1, lag: 0 },
      { partition: 2, lag: 20 },
    ]);
    expect(s.unestimated()).toEqual([3]);
    s.estimated(0, 7, 0); // a known high watermark is kept
    expect(s.lag(none)[0]).toEqual({ partition: 0, lag: 10 });
    s.assign([1], none);
    expect(s.lag(none).map((l) => l.partition)).toEqual([1]);
  });

  it('a newly assigned partition forgets its earlier high watermark and expected start', () => {
    const s = new PartitionPositions(SRC);
    s.assign([0], none);
    s.estimated(0, 50, 40);
    s.assign([], none);
    s.assign([0], none);
    expect(s.lag(none)).toEqual([]);
    expect(s.unestimated()).toEqual([0]);
  });
});
