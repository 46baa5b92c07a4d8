/**
 * The Kafka source's handler of fetched batches (kafkajs `eachBatch`, one partition at a
 * time): resolves the partition's start at its first batch (GroupMember.resolveStart),
 * detects a position that left the partition's offsets while running (past the high
 * watermark: topic recreated or truncated; below the log start: records expired under a
 * lagging consumer, which kafkajs resets silently) and moves it by `kafka.offsetReset`
 * (offset-reset.ts, counted), decodes the
 * messages from the partition's position on, dead-letters the bad ones before any later row
 * can be trained and committed, and queues the good rows.
 */
import type { EachBatchPayload } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaConnection } from './connection.ts';
import type { DeadLetter, DeadLetters } from './dead-letter.ts';
import { LionctrError } from '../../errors.ts';
import type { GroupMember } from './group.ts';
import type { Decoded } from './message-decoder.ts';
import type { OffsetResets } from './offset-reset.ts';
import type { PartitionPositions } from './positions.ts';
import type { QueuedRow, RowQueue } from './row-queue.ts';

/** What the batch handler works with. */
export interface IntakeParts {
  topic: string;
  log: Logger;
  /** Decodes a message value (message-decoder.ts); `where` is `<topic>/<partition>@<offset>`. */
  decode: (value: Buffer | null, timestampMs: number, where: string) => Decoded;
  conn: KafkaConnection;
  group: GroupMember;
  positions: PartitionPositions;
  queue: RowQueue;
  deadLetters: DeadLetters;
  resets: OffsetResets;
  /** Stops the source with `err` (an out-of-range position under kafka.offsetReset=fail). */
  fail: (err: LionctrError) => void;
  /** Wakes the batches() loop when rows arrived. */
  wake: () => void;
}

/**
 * The `eachBatch` of the source's consumer (see the module doc).
 * @throws the dead-letter producer's error (kafkajs then retries the batch), or resolveStart's.
 */
export function createBatchIntake(d: IntakeParts): (payload: EachBatchPayload) => Promise<void> {
  const { topic, positions, queue } = d;
  return async ({ batch, heartbeat }) => {
    const p = batch.partition;
    const gen = d.group.generation;
    if (!positions.assigned.has(p) || d.conn.closing) return;
    const first = batch.messages.length ? Number(batch.messages[0].offset) : null;
    try {
      if (!positions.started(p)) {
        const sought = await d.group.resolveStart(p, heartbeat, first);
        if (sought || gen !== d.group.generation) return;
      }
      const hw = Number(batch.highWatermark);
      positions.setHighWater(p, hw);
      const pos = positions.positionOf(p)!;
      // past the end: the topic was deleted and recreated (or truncated) while we ran; a gap
      // at the batch's start may be retention having deleted our position (kafkajs reset it)
      if (pos > hw || (first !== null && first > pos)) {
        if (await movedOut(d, p, pos, hw, first)) return;
      }
    } catch (e) {
      if (!(e instanceof LionctrError) || e.code !== 'LIONCTR_BAD_INPUT') throw e;
      d.fail(e); // kafka.offsetReset=fail
      return;
    }
    let pos = positions.positionOf(p)!;
    const good: QueuedRow[] = [];
    const dead: DeadLetter[] = [];
    const now = Date.now();
    for (const msg of batch.messages) {
      const off = Number(msg.offset);
      if (off < pos) continue; // already queued or trained
      const r = d.decode(msg.value, Number(msg.timestamp), `${topic}/${p}@${off}`);
      if (r.ok) {
        good.push({ p, o: off, row: r.row, at: now });
        if (r.rest) for (const row of r.rest) good.push({ p, o: off, row, at: now }); // kafka.format=arrow
      } else dead.push(d.deadLetters.reject({ ...r, key: msg.key, value: msg.value, partition: p, offset: off }));
      pos = off + 1;
    }
    // bad ones reach the dead-letter topic before any later row can be trained and committed
    await d.deadLetters.send(d.conn.producer, dead);
    if (gen !== d.group.generation && !positions.assigned.has(p)) return;
    queue.push(good);
    positions.advance(p, pos);
    d.wake();
  };
}

/**
 * Partition p's position `pos` against its offsets now: when outside them (past the end, or
 * below the log start), moved by kafka.offsetReset (counted); when kafkajs fetches elsewhere
 * (it resets by `fromBeginning`), fetching is sought there.
 * @returns true when fetching was sought (drop the batch in hand).
 * @throws LionctrError LIONCTR_BAD_INPUT under kafka.offsetReset=fail.
 */
async function movedOut(d: IntakeParts, p: number, pos: number, hw: number, first: number | null): Promise<boolean> {
  const { positions, queue, log, topic } = d;
  const now = (await d.conn.ranges()).get(p) ?? { low: 0, high: hw };
  const past = pos > hw;
  if (!past && pos >= now.low) return false; // a gap in the log (compaction, transaction markers)
  const range = past ? { low: now.low, high: hw } : now;
  const at = d.resets.reset(p, pos, range, 'position');
  if (past) {
    const dropped = queue.drop(p);
    if (dropped) log.warn({ partition: p, dropped }, `${topic}/${p}: ${dropped} queued rows of the old topic dropped`);
    positions.reset(p, at); // the trainer's position for p is of the old topic until it trains a new row
    d.deadLetters.forget(p);
  } else positions.advance(p, at);
  if (first === at) return false;
  d.conn.consumer!.seek({ topic, partition: p, offset: String(at) });
  return true;
}
