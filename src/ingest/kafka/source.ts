/**
 * The Kafka source: a kafkajs consumer in a group, decoding messages into Arrow record
 * batches whose rows carry (partition, offset); offsets are never auto-committed.
 *
 * Exactly-once (DESIGN.md "Ids, offsets and exactly-once"): positions come from the
 * trainer's checkpoint (`resume`) and the group's committed offsets, whichever is further
 * (see ownership.ts for hand-overs between trainers); rows below a partition's position
 * are dropped, so a re-delivery after a rebalance or retry is never trained twice. The
 * trainer calls `checkpointed()` after each durable checkpoint and only then are offsets
 * committed. Rows queued for a partition that is revoked are dropped untrained; the
 * partition is then released by the next checkpoint (`checkpointWanted()`).
 *
 * The parts, split as kafkajs splits its consumer: connection.ts (connect, restart with
 * backoff), group.ts (assignments, the ownership wait, commits), intake.ts (each fetched
 * batch), positions.ts (partition positions and what may be committed, no broker),
 * row-queue.ts (queued rows and backpressure: above `kafka.queueMaxRows` the consumer
 * pauses fetching, below half it resumes), dead-letter.ts (bad messages to
 * `kafka.deadLetterTopic`), lag.ts (lag, also of partitions not started yet).
 *
 * Heartbeats: kafkajs sends the group heartbeats from its fetch loop, on the event loop of
 * the thread that created the consumer. `lionctr` opens this source on the ingest thread
 * (src/ingest/threaded, `source.thread.enabled`), so they flow while a step holds the training
 * thread; opened on the training thread, a step longer than `kafka.sessionTimeoutMs` loses the
 * group membership (test/integration/kafka-heartbeat.test.ts).
 */
import type { Logger } from 'pino';
import { LionctrError } from '../../errors.ts';
import { RecordBatchBuilder } from '../arrow/record-batch-builder.ts';
import type { InputColumns } from '../input-columns.ts';
import type { ResumePoint, SlotSchema, Source } from '../source.ts';
import type { KafkaSection } from './config.ts';
import { KafkaConnection } from './connection.ts';
import { DeadLetters } from './dead-letter.ts';
import { GroupMember } from './group.ts';
import { createBatchIntake } from './intake.ts';
import { LagEstimator, type PartitionLag } from './lag.ts';
import { OffsetResets } from './offset-reset.ts';
import { createMessageDecoder } from './message-decoder.ts';
import { PartitionPositions } from './positions.ts';
import { RowQueue } from './row-queue.ts';

/** Options of createKafkaSource. */
export interface KafkaSourceOptions {
  kafka: KafkaSection;
  schema: SlotSchema;
  /** The checkpoint's positions, or null on a fresh start. */
  resume: ResumePoint | null;
  logger: Logger;
  /**
   * How messages are read beyond kafka.*, as a file is read: schema.time/ignore/weight/unknownSlots
   * (default: the defaults) and `source.libsvm.fieldStarts` (default []: feature index i is field i).
   */
  input?: { columns?: InputColumns; fieldStarts?: readonly number[] };
}

/** A Source with Kafka's extras. */
export interface KafkaSource extends Source {
  /** Per assigned partition, the lag behind the high watermark (messages). */
  lag(): PartitionLag[];
}

/**
 * Creates the Kafka source of `opts.kafka` (topic, group, decoder, dead-letter topic).
 * Nothing connects until batches() is iterated. batches() throws LionctrError
 * LIONCTR_BAD_CONFIG when the topic (or the dead-letter topic) does not exist, LIONCTR_BAD_INPUT
 * for an out-of-range position under kafka.offsetReset=fail, and the consumer's error when
 * kafkajs gives up (broker gone past its retries).
 */
export function createKafkaSource(opts: KafkaSourceOptions): KafkaSource {
  const k = opts.kafka,
    log = opts.logger,
    topic = k.topic;
  const name = `kafka:${topic}`;
  const decode = createMessageDecoder(k.format, opts.schema, k.maxMessageBytes, {
    onUnknownSlot: (slot, where) =>
      log.warn(
        { slot, where },
        `messages carry slot "${slot}", which the schema does not have; it is ignored ` +
          `(schema.unknownSlots=ignore; first seen at ${where})`,
      ),
    sparse: { fieldStarts: opts.input?.fieldStarts },
    columns: opts.input?.columns,
  });
  const conn = new KafkaConnection(k, log, { onJoin: (e) => group.onAssignment(e), eachBatch: (b) => intake(b) });
  const positions = new PartitionPositions(name, opts.resume?.nextOffsets);
  const queue = new RowQueue(k.queueMaxRows, {
    pause: () => conn.consumer!.pause([{ topic }]),
    resume: () => conn.consumer!.resume([{ topic }]),
  });
  const deadLetters = new DeadLetters(topic, k.deadLetterTopic, log);
  const lag = new LagEstimator(k.groupId, topic, k.fromBeginning, k.offsetReset, positions, conn, log);
  let wake: () => void = () => {};
  const resets = new OffsetResets(k.groupId, topic, k.offsetReset, log);
  /** The error that stops the source (an out-of-range position under kafka.offsetReset=fail). */
  let fatal: LionctrError | null = null;
  const group = new GroupMember(k, log, conn, positions, queue, lag, () => wake(), resets);
  const intake = createBatchIntake({
    topic,
    log,
    decode,
    conn,
    group,
    positions,
    queue,
    deadLetters,
    resets,
    fail: (e) => {
      fatal ??= e;
      wake();
    },
    wake: () => wake(),
  });
  const wantsCheckpoint = () => positions.releaseWanted(Date.now());

  /** The `n` oldest queued rows (n <= queued) as one batch; they count as handed to training. */
  function take(n: number) {
    const b = new RecordBatchBuilder(opts.schema, n, { source: name });
    for (const q of queue.take(n)) {
      b.pushRow(q.row, q.p, q.o);
      positions.handedTo(q.p, q.o + 1);
    }
    return b.finish();
  }

  return {
    name,
    stats: () => ({ rows: queue.received, bad: { ...deadLetters.bad } }),
    backpressurePauses: () => queue.pauses,
    offsetResets: () => resets.all(),
    checkpointWanted: wantsCheckpoint,
    untrained(n: number): void {
      for (const [p, o] of queue.untrained(n)) positions.returned(p, o);
    },
    lag: () => lag.lag(queue.firstQueued()),
    checkpointed: (next: Record<string, number>) => group.checkpointed(next),

    async *batches({ batchSize, signal }) {
      if (!Number.isInteger(batchSize) || batchSize < 1) {
        throw new LionctrError('LIONCTR_BAD_CONFIG', `batchSize must be a positive integer, got ${batchSize}`, {
          where: 'batchSize',
        });
      }
      // a stop signal during start-up (a broker that does not answer) need not wait out the retries
      const connecting = conn.connect();
      connecting.catch(() => {}); // observed by the race below, or abandoned after a stop
      const stopped = new Promise<'stopped'>((res) => {
        if (signal?.aborted) res('stopped');
        else signal?.addEventListener('abort', () => res('stopped'), { once: true });
      });
      if ((await Promise.race([connecting.then(() => 'connected' as const), stopped])) === 'stopped') return;
      const empty = () => new RecordBatchBuilder(opts.schema, 1).finish();
      let idleSince = Date.now();
      try {
        while (!signal?.aborted) {
          if (fatal) throw fatal;
          const n = queue.size;
          const age = n > 0 ? Date.now() - queue.oldestAt()! : 0;
          if (n >= batchSize || (n > 0 && age >= k.lingerMs)) {
            yield take(queue.wholeMessages(Math.min(n, batchSize))); // an Arrow message's rows stay together
            idleSince = Date.now();
            continue;
          }
          if (wantsCheckpoint() || Date.now() - idleSince >= 1000) {
            idleSince = Date.now();
            yield empty(); // lets the trainer checkpoint, export and report while idle
            continue;
          }
          const waitMs = n > 0 ? k.lingerMs - age : 1000 - (Date.now() - idleSince);
          await new Promise<void>((res) => {
            const t = setTimeout(done, Math.max(1, waitMs));
            const onAbort = () => done();
            signal?.addEventListener('abort', onAbort, { once: true });
            function done() {
              clearTimeout(t);
              signal?.removeEventListener('abort', onAbort);
              wake = () => {};
              res();
            }
            wake = done;
          });
        }
      } finally {
        conn.closing = true;
      }
    },

    close: () => conn.close(),
  };
}
