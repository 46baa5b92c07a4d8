/**
 * A Source whose reading, decoding and featurizing run on an ingest thread of their own
 * (./worker.ts; DESIGN.md "Threads"): the training thread receives each RecordBatch with its
 * FeatureBatch already made (./batch-features.ts), both by transfer, through a bounded queue
 * of `queueBatches` batches (./protocol.ts). The Kafka consumer then lives on the ingest
 * thread, so a long step no longer starves its group heartbeats.
 *
 * A source with committed positions (Kafka: it has `checkpointed`) is read one batch at a
 * time: the next batch is taken from it only when the trainer asks for one, so `untrained`
 * and `checkpointed` see the source exactly as on one thread (a batch taken ahead would be
 * committed by a checkpoint before it is trained). Its decoding still runs ahead on the
 * ingest thread (kafka.queueMaxRows rows). Other sources (file, synthetic) run ahead by
 * `queueBatches` batches.
 * @module
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { LionctrError } from '../../errors.ts';
import type { FeatureSchema } from '../../features/schema.ts';
import type { Source } from '../source.ts';
import { attachFeatures } from './batch-features.ts';
import { Inbox } from './inbox.ts';
import { relayLogLine } from './log-relay.ts';
import type { FromIngest, IngestWorkerData, SourceSnapshot, ToIngest } from './protocol.ts';
import type { SourceSpec } from './source-spec.ts';
import { errorFromData, unpackRecordBatch } from './transfer.ts';

/** Options of openThreadedSource. */
export interface ThreadedSourceOptions {
  spec: SourceSpec;
  /** The schema the trainer featurizes by (the model's). */
  features: FeatureSchema;
  /** Batches the ingest thread may hold ready ahead of training (source.thread.queueBatches), >= 1. */
  queueBatches: number;
  /** Where the ingest thread's log lines go, and at which level they are made. */
  logger: Logger;
}

const BOOT = new URL('./worker-boot.mjs', import.meta.url);

/**
 * Starts an ingest thread for `opts.spec` and resolves once its source is open.
 * @throws what opening the source throws on that thread (LionctrError LIONCTR_BAD_CONFIG,
 *   LIONCTR_BAD_INPUT), re-made here with the same code and message.
 */
export async function openThreadedSource(opts: ThreadedSourceOptions): Promise<Source> {
  const data: IngestWorkerData = { spec: opts.spec, features: opts.features, logLevel: opts.logger.level };
  const worker = new Worker(BOOT, { workerData: data });
  const inbox = new Inbox();
  worker.on('message', (m: FromIngest) => (m.type === 'log' ? relayLogLine(opts.logger, m.line) : inbox.push(m)));
  worker.on('error', (e) => inbox.die(e));
  worker.on('exit', (code) =>
    inbox.die(new LionctrError('LIONCTR_INTERNAL', `the ingest thread exited (code ${code})`, { where: 'source' })),
  );
  const first = await inbox.next();
  if (first?.type !== 'ready') {
    await worker.terminate();
    throw first?.type === 'error' ? errorFromData(first.error) : new LionctrError('LIONCTR_INTERNAL', 'no ready');
  }
  const { caps } = first;
  let snap: SourceSnapshot = first.snapshot;
  let started = false,
    closed = false;
  const send = (m: ToIngest) => {
    if (!inbox.dead) worker.postMessage(m);
  };
  /** Sends request `m` and waits for its reply; @throws its error. */
  async function request(m: ToIngest): Promise<void> {
    const r = inbox.reply();
    send(m);
    const got = await r;
    snap = got.snapshot;
    if (got.error) throw errorFromData(got.error);
  }

  const source: Source = {
    name: first.name,
    stats: () => snap.stats,

    async *batches({ batchSize, signal }) {
      if (started) throw new LionctrError('LIONCTR_INTERNAL', 'a threaded source is read once', { where: first.name });
      started = true;
      send({ type: 'start', batchSize, credits: caps.checkpointed ? 1 : Math.max(1, opts.queueBatches) });
      try {
        for (;;) {
          const m = await inbox.next(signal);
          if (!m) return; // stopped: the step in flight ends, nothing more is read
          if (m.snapshot) snap = m.snapshot;
          if (m.type === 'end') return;
          if (m.type === 'error') throw errorFromData(m.error);
          if (m.type !== 'batch') continue;
          const rb = unpackRecordBatch(m.batch.ipc);
          attachFeatures(rb, m.batch.features);
          yield rb;
          send({ type: 'pull' });
        }
      } finally {
        send({ type: 'stop' });
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      try {
        if (!inbox.dead) await request({ type: 'close' });
      } finally {
        await worker.terminate();
      }
    },
  };
  if (caps.checkpointed) source.checkpointed = (next) => request({ type: 'checkpointed', next });
  if (caps.untrained) source.untrained = (n) => send({ type: 'untrained', n });
  if (caps.checkpointWanted) source.checkpointWanted = () => snap.wanted ?? false;
  if (caps.backpressurePauses) source.backpressurePauses = () => snap.pauses ?? 0;
  if (caps.offsetResets) source.offsetResets = () => snap.resets ?? [];
  if (caps.lag) source.lag = () => snap.lag ?? [];
  return source;
}
