/**
 * `lionctr run`: the trainer (in a worker thread, src/cli/train-worker.ts) and the prediction
 * endpoint in one process; the endpoint hot-swaps the exports the trainer writes. A trainer that
 * fails is restarted with backoff while serving goes on (src/cli/trainer-supervisor.ts); /readyz
 * says how training stands.
 */
import type { Command } from 'commander';
import { EventEmitter } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LionctrConfig } from '../../config/schema.ts';
import { LionctrError } from '../../errors.ts';
import { createLogger } from '../../log.ts';
import { createMetrics } from '../../metrics/catalogue.ts';
import { emitTrainEventMessage, type TrainEmitter, type TrainEventMessage } from '../../events/train-events.ts';
import { observeTrainer } from '../../metrics/train-observer.ts';
import { selectBackend, trainerTfThreads } from '../../model/backend.ts';
import type { TrainSummary } from '../../train/trainer-options.ts';
import { checkInput, configFrom, fatal, withConfigOptions } from '../common.ts';
import { endpointOptions, serveFlags } from './flags.ts';
import { shutdownSignal, startServer, stopServer, untilAborted } from './lifecycle.ts';
import { checkpointDirOf } from '../checkpoint-dir.ts';
import { TrainerSupervisor } from '../trainer-supervisor.ts';

/**
 * Runs one trainer in a worker thread (src/cli/train-worker.ts), re-emitting its events on
 * `events` (the metrics listen there); `active()` is called at its first event (it reads its
 * source); `signal` asks it to stop gracefully. Resolves with its summary.
 * @throws the worker's error when it fails (its `code` kept); LionctrError LIONCTR_INTERNAL when
 *   it exits without a summary.
 */
function runTrainerWorker(
  cfg: LionctrConfig,
  exportDir: string,
  events: TrainEmitter,
  signal: AbortSignal,
  active: () => void,
): Promise<TrainSummary> {
  const worker = new Worker(new URL('../train-worker-boot.mjs', import.meta.url), { workerData: { cfg, exportDir } });
  const stop = () => worker.postMessage({ type: 'stop' });
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  return new Promise((resolveRun, reject) => {
    let summary: TrainSummary | undefined;
    let failure: unknown;
    let seen = false;
    worker.on('message', (msg: TrainEventMessage | { type: 'done'; payload: TrainSummary }) => {
      if (msg.type === 'done') summary = msg.payload;
      else {
        if (!seen) active();
        seen = true;
        emitTrainEventMessage(events, msg);
      }
    });
    worker.on('error', (e) => {
      failure = e;
    });
    // settled at exit only: the next trainer starts once this one's thread (and its locks) are gone
    worker.on('exit', (code) => {
      signal.removeEventListener('abort', stop);
      if (summary) resolveRun(summary);
      else {
        dropOwnLock(checkpointDirOf(cfg, exportDir));
        reject(
          failure ?? new LionctrError('LIONCTR_INTERNAL', `trainer worker exited with code ${code} before finishing`),
        );
      }
    });
  });
}

/**
 * Removes the lock of checkpoints root `dir` when it names this process: left by a trainer worker
 * that died before it could release it (one trainer at a time here, so no live one holds it).
 */
function dropOwnLock(dir: string | null): void {
  if (!dir) return;
  const file = join(dir, 'LOCK');
  try {
    if (readFileSync(file, 'utf8').split(' ')[0] === String(process.pid)) rmSync(file, { force: true });
  } catch {
    /* no lock */
  }
}

/** Adds `run` to the program. */
export function addRunCommand(program: Command): void {
  withConfigOptions(
    endpointOptions(program.command('run'))
      .description(
        'trainer + prediction endpoint in one process ' +
          '(the configured source; synthetic click stream by default); resumes from the newest checkpoint',
      )
      .option('--export-dir <dir>', 'exports root (export.dir)')
      .option('--checkpoint-dir <dir>', 'checkpoints root (checkpoint.dir; default <export-dir>/checkpoints)')
      .option('--brokers <host:port,...>', 'Kafka bootstrap brokers (kafka.brokers) when source.kind is kafka'),
  ).action(async (o) => {
    try {
      const cfg = configFrom(o, serveFlags(o));
      checkInput(cfg); // before anything is created
      const logger = createLogger(cfg.log.level);
      const ac = shutdownSignal(logger, 'finishing the current step, exporting, shutting down');
      const metrics = createMetrics();
      const exportDir = resolve(cfg.export.dir);
      // the trainer's thread count: TensorFlow's pool is the process's, made at this first load
      const tfThreads = trainerTfThreads(cfg.source.thread.enabled);
      await selectBackend(cfg.backend, (m) => logger.info(`serving: ${m}`), { tfThreads });
      const events: TrainEmitter = new EventEmitter();
      observeTrainer(events, metrics);
      const supervisor = new TrainerSupervisor({
        start: (signal, active) => runTrainerWorker(cfg, exportDir, events, signal, active),
        backoff: cfg.run.restartBackoffSeconds,
        logger,
        metrics,
        signal: ac.signal,
      });
      const status = () => supervisor.describe();
      const { registry, app } = await startServer(cfg, logger, exportDir, metrics, ac.signal, undefined, status);
      // a trainer that fails is restarted (trainer-supervisor.ts); serving goes on whatever it does
      const summary = await supervisor.run();
      if (summary)
        logger.info({ summary: summary.progress }, `training finished after ${summary.progress.examples} examples`);
      if (!ac.signal.aborted) {
        logger.info(
          `${summary ? 'source ended' : 'training stopped'}; still serving the last export (SIGTERM to stop)`,
        );
        await untilAborted(ac.signal);
      }
      await stopServer(cfg, logger, { app, registry });
    } catch (e) {
      fatal(e);
    }
  });
}
