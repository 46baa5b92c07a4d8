/**
 * The trainer of `lionctr run`, in a worker thread so that the prediction endpoint in the
 * main thread answers while a step computes. Receives {cfg, exportDir} as workerData,
 * posts every trainer event (src/events/train-events.ts) as a TrainEventMessage {type, payload},
 * and {type: 'done', payload: summary} at the end; a 'stop' message aborts gracefully
 * (finish the step, export).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LionctrConfig } from '../config/schema.ts';
import { relayTrainEvents } from '../events/train-events.ts';
import { createLogger } from '../log.ts';
import { createTrainer } from './train-session.ts';

const { cfg, exportDir } = workerData as { cfg: LionctrConfig; exportDir: string };
const logger = createLogger(cfg.log.level);
const ac = new AbortController();
parentPort!.on('message', (msg: { type: string }) => {
  if (msg.type === 'stop') ac.abort();
});
const trainer = await createTrainer(cfg, logger, { signal: ac.signal, exportDir });
relayTrainEvents(trainer, (msg) => parentPort!.postMessage(msg));
const summary = await trainer.run();
parentPort!.postMessage({ type: 'done', payload: summary });
parentPort!.close(); // the 'message' listener would keep the worker alive
