/**
 * The ingest thread (started by ./threaded-source.ts): for each `open` it opens the source of
 * the SourceSpec, iterates its batches, featurizes each one here and sends it with its
 * features by transfer (./transfer.ts), never more ahead than the credits the training side
 * gave (the bounded queue of ./protocol.ts); after `close` it waits for the next `open` (a
 * file's next pass reuses the thread). The Kafka consumer's event loop is this thread's, so
 * its heartbeats flow while a training step holds the other thread. Errors of the source (bad
 * config, broker gone, bad input) go back as `error` messages, re-thrown on the training side.
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { Featurizer } from '../../features/featurizer.ts';
import type { Source } from '../source.ts';
import { relayingLogger } from './log-relay.ts';
import { capsOf, type FromIngest, snapshotOf, type ToIngest } from './protocol.ts';
import { openSourceSpec } from './source-spec.ts';
import { errorToData, packBatch } from './transfer.ts';

const port = parentPort!;
const post = (m: FromIngest, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const logger = relayingLogger('info', (line) => post({ type: 'log', line }));

/** The open source's handler of the training side's messages (null between sources). */
let session: ((m: ToIngest) => void) | null = null;

port.on('message', (m: ToIngest) => {
  if (m.type !== 'open') return session?.(m);
  logger.level = m.logLevel;
  openSourceSpec(m.spec, logger).then(
    (src) => {
      session = serve(src, new Featurizer(m.features));
      post({ type: 'ready', name: src.name, caps: capsOf(src), snapshot: snapshotOf(src) });
    },
    (e) => post({ type: 'error', error: errorToData(e) }),
  );
});

/** The message handler for `src` (see ./protocol.ts). */
function serve(src: Source, featurizer: Featurizer): (m: ToIngest) => void {
  const stop = new AbortController();
  let credits = 0;
  let wake = () => {};
  let producing: Promise<void> = Promise.resolve();

  /** Sends batches while credits last, until the source ends, fails or is stopped. */
  async function produce(batchSize: number): Promise<void> {
    const it = src.batches({ batchSize, signal: stop.signal })[Symbol.asyncIterator]();
    let seq = 0;
    try {
      for (;;) {
        while (credits <= 0 && !stop.signal.aborted) await new Promise<void>((r) => (wake = r));
        if (stop.signal.aborted) return;
        const r = await it.next();
        if (r.done) {
          post({ type: 'end', snapshot: snapshotOf(src) });
          return;
        }
        credits--;
        const { packed, transfer } = packBatch(r.value, featurizer.fromRecordBatch(r.value));
        post({ type: 'batch', seq: seq++, batch: packed, snapshot: snapshotOf(src) }, transfer);
      }
    } catch (e) {
      post({ type: 'error', error: errorToData(e), snapshot: snapshotOf(src) });
    } finally {
      await it.return?.(undefined); // the source's own clean-up (Kafka: closing, for the last commits)
    }
  }

  /** Runs `fn` after the producer ended when a stop was asked (the last checkpoint, close); replies `type`. */
  async function reply(type: 'checkpointed' | 'closed', fn: () => Promise<void> | undefined): Promise<void> {
    if (stop.signal.aborted) await producing;
    try {
      await fn();
      post({ type, snapshot: snapshotOf(src) });
    } catch (e) {
      post({ type, snapshot: snapshotOf(src), error: errorToData(e) });
    }
  }

  return (m) => {
    switch (m.type) {
      case 'start':
        credits = m.credits;
        producing = produce(m.batchSize);
        break;
      case 'pull':
        credits++;
        wake();
        break;
      case 'untrained':
        src.untrained?.(m.n);
        break;
      case 'checkpointed':
        void reply('checkpointed', () => src.checkpointed?.(m.next));
        break;
      case 'stop':
        stop.abort();
        wake();
        break;
      case 'close':
        stop.abort();
        wake();
        session = null; // the reply is the last message of this source
        void reply('closed', () => src.close?.());
        break;
    }
  };
}
