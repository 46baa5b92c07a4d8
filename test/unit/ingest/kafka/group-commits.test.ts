/**
 * The offset commits after checkpoints (src/ingest/kafka/group.ts, issue 17: "the trainer stalls
 * ~24 s at the first offset commit after the broker goes away"): a periodic commit runs in the
 * background, so checkpointed() resolves at once even while kafkajs keeps retrying one; commits
 * go one at a time and the newest waiting one replaces older ones (offsets never go back); a
 * failed one is logged, not thrown; the last commits (closing) are awaited, after the one in
 * flight. The consumer is a stand-in whose commits the test settles: a broker that does not
 * answer cannot be made on the shared test broker.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { KafkaSection } from '../../../../src/ingest/kafka/config.ts';
import type { KafkaConnection } from '../../../../src/ingest/kafka/connection.ts';
import { GroupMember } from '../../../../src/ingest/kafka/group.ts';
import type { LagEstimator } from '../../../../src/ingest/kafka/lag.ts';
import { PartitionPositions } from '../../../../src/ingest/kafka/positions.ts';
import type { RowQueue } from '../../../../src/ingest/kafka/row-queue.ts';

const SRC = 'kafka:clicks';
const key = `${SRC}/0`;

/** A member holding partition 0 (started at 0) whose consumer's commits wait until the test settles them. */
function member() {
  const positions = new PartitionPositions(SRC);
  positions.assign([0], new Map());
  positions.start(0, 0);
  let queuedFrom = 0;
  const queue = { firstQueued: () => new Map([[0, queuedFrom]]) } as unknown as RowQueue;
  const calls: { offset: string; metadata: string; settle: (err?: Error) => void }[] = [];
  const consumer = {
    commitOffsets: (cs: { offset: string; metadata: string }[]) =>
      new Promise<void>((res, rej) => calls.push({ ...cs[0], settle: (err) => (err ? rej(err) : res()) })),
  };
  const conn = { consumer, closing: false } as unknown as KafkaConnection;
  const k = { topic: 'clicks' } as KafkaSection;
  const g = new GroupMember(k, pino({ level: 'silent' }), conn, positions, queue, {} as LagEstimator, () => {});
  g.memberId = 'm1';
  /** The trainer's checkpoint at `next`: rows from `next` on are queued, the position is past them. */
  const checkpoint = (next: number) => {
    positions.advance(0, next + 10);
    queuedFrom = next;
    return g.checkpointed({ [key]: next });
  };
  const flush = () => new Promise((r) => setTimeout(r, 0));
  return { g, calls, conn, checkpoint, flush };
}

/** Whether `p` settles within `ms`. */
const settlesWithin = (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => true), new Promise((r) => setTimeout(() => r(false), ms))]);

describe('GroupMember commits after checkpoints', () => {
  it('do not block training: one in flight, the newest waiting one next, older ones replaced', async () => {
    const m = member();
    expect(await settlesWithin(m.checkpoint(10), 50)).toBe(true); // its commit still hangs
    expect(m.calls.map((c) => c.offset)).toEqual(['10']);
    expect(await settlesWithin(m.checkpoint(20), 50)).toBe(true);
    expect(await settlesWithin(m.checkpoint(30), 50)).toBe(true);
    expect(m.calls.length).toBe(1); // one at a time
    m.calls[0].settle();
    await m.flush();
    expect(m.calls.map((c) => c.offset)).toEqual(['10', '30']); // 20 was replaced by 30
    expect(m.calls[1].metadata).toMatch(/m1/);
    m.calls[1].settle();
    await m.flush();
    await m.checkpoint(40);
    expect(m.calls.map((c) => c.offset)).toEqual(['10', '30', '40']);
  });

  it('a failed commit is logged, not thrown, and the next one goes through', async () => {
    const m = member();
    await m.checkpoint(10);
    m.calls[0].settle(new Error('Connection error: connect ECONNREFUSED'));
    await m.flush();
    await m.checkpoint(20);
    expect(m.calls.map((c) => c.offset)).toEqual(['10', '20']);
  });

  it('the last commits (closing) are awaited, after the one in flight', async () => {
    const m = member();
    await m.checkpoint(10);
    (m.conn as { closing: boolean }).closing = true;
    const last = m.checkpoint(20);
    expect(await settlesWithin(last, 50)).toBe(false);
    expect(m.calls.length).toBe(1); // waits for the one in flight first
    m.calls[0].settle();
    await m.flush();
    expect(m.calls.map((c) => c.offset)).toEqual(['10', '20']);
    expect(await settlesWithin(last, 50)).toBe(false);
    m.calls[1].settle();
    expect(await settlesWithin(last, 50)).toBe(true);
    expect(m.calls[1].metadata).toMatch(/released/);
  });
});
