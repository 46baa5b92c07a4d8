/**
 * `lionctr serve`: serves the latest export under an exports root, hot-swapping newer ones; from
 * serve.workers worker processes sharing the port (default auto: one per core) when that is more
 * than 1 (src/cli/commands/serve-cluster.ts), else from this process.
 */
import { type Command, InvalidArgumentError } from 'commander';
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { LionctrConfig } from '../../config/schema.ts';
import { createLogger } from '../../log.ts';
import { createServeMetrics } from '../../metrics/catalogue.ts';
import { workerCount } from '../../serve/config.ts';
import { selectBackend } from '../../model/backend.ts';
import { configFrom, fatal, withConfigOptions } from '../common.ts';
import { endpointOptions, intArg, serveFlags } from './flags.ts';
import { shutdownSignal, startServer, stopServer, untilAborted } from './lifecycle.ts';
import { runPrimary, workerFailed, workerSide } from './serve-cluster.ts';

/** Parser of --workers: `auto`, or an integer >= 0 as intArg reads it; commander reports what it takes. */
function workersArg(v: string): 'auto' | number {
  if (v.trim() === 'auto') return 'auto';
  try {
    return intArg('--workers')(v);
  } catch {
    throw new InvalidArgumentError(`--workers must be auto or an integer >= 0, got "${v}".`);
  }
}

/** Adds `serve` to the program. */
export function addServeCommand(program: Command): void {
  withConfigOptions(
    endpointOptions(
      program
        .command('serve')
        .description('serve the latest export under an exports root, hot-swapping newer ones')
        .option('--export-dir <dir>', 'exports root (export.dir)')
        .option(
          '--workers <n>',
          'worker processes sharing the port, each loading the exports (auto or 0: one per core; default auto) ' +
            '(serve.workers)',
          workersArg,
        ),
    ),
  ).action(async (o) => {
    try {
      const extra = o.workers !== undefined ? [`serve.workers=${o.workers}`] : [];
      const cfg = configFrom(o, [...serveFlags(o), ...extra]);
      const logger = createLogger(cfg.log.level);
      const workers = workerCount(cfg.serve.workers, availableParallelism());
      if (cluster.isPrimary && workers > 1) {
        const ac = shutdownSignal(logger, `stopping ${workers} workers (each finishes its requests in flight)`);
        logger.info(`serving from ${workers} worker processes on port ${cfg.serve.port}`);
        const graceMs = (cfg.serve.drainSeconds + 30) * 1000;
        process.exit(await runPrimary(workers, logger, ac.signal, graceMs, cfg.serve.workerStartFailures));
      }
      await serveHere(cfg, logger);
      // a worker's IPC channel to the primary would keep it alive
      if (cluster.isWorker) process.exit(0);
    } catch (e) {
      // a worker tells the primary why it failed (serve.workerStartFailures), then exits as a single serve
      if (cluster.isWorker) workerFailed(e, fatal);
      else fatal(e);
    }
  });
}

/** Serves from this process (a single `serve`, or one worker of several) until the shutdown signal. */
async function serveHere(cfg: LionctrConfig, logger: ReturnType<typeof createLogger>): Promise<void> {
  const ac = shutdownSignal(logger, 'finishing requests in flight, shutting down');
  const metrics = createServeMetrics();
  let ageOf: () => number | undefined = () => undefined;
  const worker = cluster.isWorker
    ? { id: cluster.worker?.id ?? 0, ...workerSide(metrics, () => ageOf(), logger, ac) }
    : undefined;
  await selectBackend(cfg.backend, (m) => logger.info(m));
  const s = await startServer(cfg, logger, resolve(cfg.export.dir), metrics, ac.signal, worker);
  ageOf = () => {
    const m = s.registry.current();
    return m ? (Date.now() - Date.parse(m.manifest.created_at)) / 1000 : undefined;
  };
  await untilAborted(ac.signal);
  await stopServer(cfg, logger, s);
}
