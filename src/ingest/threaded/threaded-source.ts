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
import type { FromIngest, SourceSnapshot, ToIngest } from './protocol.ts';
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
/** An ingest thread whose source closed, kept for the next one (unref'd: it keeps no process alive). */
let idle: { worker: Worker; detach: () => void } | null = null;

/** Handlers of a thread's events (only these are removed: the Worker's own listeners stay). */
interface Handlers {
  message: (m: FromIngest) => void;
  error: (e: Error) => void;
  exit: (code: number) => void;
}

/** Attaches `h` to `w`; returns what detaches them. */
function attach(w: Worker, h: Handlers): () => void {
  w.on('message', h.message);
  w.on('error', h.error);
  w.on('exit', h.exit);
  return () => {
    w.off('message', h.message);
    w.off('error', h.error);
    w.off('exit', h.exit);
  };
}

/** The idle ingest thread, or a new one, with `h` attached; returns it and what detaches `h`. */
function leaseWorker(h: Handlers): { worker: Worker; detach: () => void } {
  const kept = idle;
  idle = null;
  kept?.detach();
  kept?.worker.ref();
  const worker = kept?.worker ?? new Worker(BOOT);
  return { worker, detach: attach(worker, h) };
}

/** Keeps `w` (its source closed, its handlers detached) for the next source, or ends it when one is kept. */
async function park(worker: Worker): Promise<void> {
  if (idle) {
    await worker.terminate();
    return;
  }
  const gone = () => {
    if (idle?.worker === worker) idle = null;
  };
  idle = { worker, detach: attach(worker, { message: () => {}, error: gone, exit: gone }) };
  worker.unref();
}

/**
 * Starts an ingest thread now, kept idle for the first openThreadedSource: its start (a
 * second or more: the thread loads its modules) then overlaps the trainer's own set-up.
 */
export function prewarmIngestThread(): void {
  if (!idle) void park(new Worker(BOOT));
}

/**
 * Opens `opts.spec` on an ingest thread (the one a closed source left, or a new one) and
 * resolves once the source is open.
 * @throws what opening the source throws on that thread (LionctrError LIONCTR_BAD_CONFIG,
 *   LIONCTR_BAD_INPUT), re-made here with the same code and message.
 */
export async function openThreadedSource(opts: ThreadedSourceOptions): Promise<Source> {
  const inbox = new Inbox();
  const { worker, detach } = leaseWorker({
    message: (m) => (m.type === 'log' ? relayLogLine(opts.logger, m.line) : inbox.push(m)),
    error: (e) => inbox.die(e),
    exit: (code) =>
      inbox.die(new LionctrError('LIONCTR_INTERNAL', `the ingest thread exited (code ${code})`, { where: 'source' })),
  });
  worker.postMessage({ type: 'open', spec: opts.spec, features: opts.features, logLevel: opts.logger.level });
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
      } catch (e) {
        await worker.terminate();
        throw e;
      }
      if (inbox.dead) await worker.terminate();
      else {
        detach();
        await park(worker);
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
