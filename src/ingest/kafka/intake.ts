/**
 * The Kafka source's handler of fetched batches (kafkajs `eachBatch`, one partition at a
 * time): resolves the partition's start at its first batch (GroupMember.resolveStart),
 * detects a topic recreated while running (position past the high watermark), decodes the
 * messages from the partition's position on, dead-letters the bad ones before any later row
 * can be trained and committed, and queues the good rows.
 */
import type { EachBatchPayload } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaConnection } from './connection.ts';
import type { DeadLetter, DeadLetters } from './dead-letter.ts';
import type { GroupMember } from './group.ts';
import type { Decoded } from './message-decoder.ts';
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
  /** Wakes the batches() loop when rows arrived. */
  wake: () => void;
}

/**
 * The `eachBatch` of the source's consumer (see the module doc).
 * @throws the dead-letter producer's error (kafkajs then retries the batch), or resolveStart's.
 */
export function createBatchIntake(d: IntakeParts): (payload: EachBatchPayload) => Promise<void> {
  const { topic, log, positions, queue } = d;
  return async ({ batch, heartbeat }) => {
    const p = batch.partition;
    const gen = d.group.generation;
    if (!positions.assigned.has(p) || d.conn.closing) return;
    const first = batch.messages.length ? Number(batch.messages[0].offset) : null;
    if (!positions.started(p)) {
      await d.group.resolveStart(p, heartbeat, first);
      if (gen !== d.group.generation) return;
    }
    const hw = Number(batch.highWatermark);
    positions.setHighWater(p, hw);
    let pos = positions.positionOf(p)!;
    if (pos > hw) {
      // the partition ends before our position: the topic was deleted and recreated (or
      // truncated) while we ran; kafkajs reset its fetch position, we must too
      const reset = first ?? 0;
      log.error(
        { partition: p, position: pos, highWatermark: hw, reset },
        `${topic}/${p}: position ${pos} is past ` +
          `the end of the partition (${hw}): topic recreated or truncated; continuing at ${reset}`,
      );
      const dropped = queue.drop(p);
      if (dropped) {
        log.warn({ partition: p, dropped }, `${topic}/${p}: ${dropped} queued rows of the old topic dropped`);
      }
      pos = reset;
      positions.reset(p, pos); // the trainer's position for p is of the old topic until it trains a new row
    }
    const good: QueuedRow[] = [];
    const dead: DeadLetter[] = [];
    const now = Date.now();
    for (const msg of batch.messages) {
      const off = Number(msg.offset);
      if (off < pos) continue; // already queued or trained
      const r = d.decode(msg.value, Number(msg.timestamp), `${topic}/${p}@${off}`);
      if (r.ok) good.push({ p, o: off, row: r.row, at: now });
      else dead.push(d.deadLetters.reject({ ...r, key: msg.key, value: msg.value, partition: p, offset: off }));
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
