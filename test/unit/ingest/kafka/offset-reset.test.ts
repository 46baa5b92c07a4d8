// kafka.offsetReset on out-of-range positions, no broker: where each policy continues, the
// messages it skips (counted per partition), the error line, and `fail` refusing.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LionctrError } from '../../../../src/errors.ts';
import { OffsetResets, skippedBy } from '../../../../src/ingest/kafka/offset-reset.ts';
import { plannedStart } from '../../../../src/ingest/kafka/positions.ts';

const logged = () => {
  const lines: { msg: string; skipped?: number }[] = [];
  const log = pino({ level: 'error' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { lines, log };
};

describe('kafka.offsetReset', () => {
  it('skippedBy: below the start from the position, past the end from the new log start', () => {
    const r = { low: 40, high: 100 };
    expect(skippedBy(10, 40, r)).toBe(30); // earliest: the 30 expired
    expect(skippedBy(10, 100, r)).toBe(90); // latest: the expired and the 60 retained
    expect(skippedBy(150, 40, r)).toBe(0); // recreated, earliest: the new log is read whole
    expect(skippedBy(150, 100, r)).toBe(60); // recreated, latest: the new log's 60 passed over
  });

  it('counts every reset and its skipped messages per partition, with an error line', () => {
    const { lines, log } = logged();
    const earliest = new OffsetResets('g', 'clicks', 'earliest', log);
    expect(earliest.reset(2, 10, { low: 40, high: 100 }, 'position')).toBe(40);
    expect(earliest.reset(2, 45, { low: 50, high: 100 }, 'position')).toBe(50);
    expect(earliest.all()).toEqual([{ group: 'g', topic: 'clicks', partition: 2, resets: 2, skipped: 35 }]);
    expect(lines[0].msg).toBe(
      "clicks/2: position 10 is outside the partition's offsets [40, 100] (records expired or deleted); " +
        'continuing at 40 (kafka.offsetReset=earliest), 30 messages skipped',
    );
    const latest = new OffsetResets('g', 'clicks', 'latest', log);
    expect(latest.reset(0, 10, { low: 40, high: 100 }, 'position')).toBe(100);
    expect(latest.all()[0]).toMatchObject({ partition: 0, resets: 1, skipped: 90 });
  });

  it('fail refuses naming the partition, position and range, and counts nothing', () => {
    const { log } = logged();
    const fail = new OffsetResets('g', 'clicks', 'fail', log);
    let err: unknown;
    try {
      fail.reset(1, 10, { low: 40, high: 100 }, 'position');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LionctrError);
    expect((err as LionctrError).code).toBe('LIONCTR_BAD_INPUT');
    expect((err as Error).message).toContain("clicks/1: position 10 is outside the partition's offsets [40, 100]");
    expect((err as Error).message).toContain('kafka.offsetReset=fail');
    expect(fail.all()).toEqual([]);
  });

  it('plannedStart moves an out-of-range start by the policy', () => {
    const known = { committed: 10, checkpoint: null, handed: undefined };
    expect(plannedStart(known, { low: 40, high: 100 }, true, null, 'latest').start).toBe(100);
    expect(plannedStart(known, { low: 40, high: 100 }, true, null, 'earliest').start).toBe(40);
  });
});
