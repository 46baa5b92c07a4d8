/**
 * Process lifecycle of the long-running commands (run, train, serve): the shutdown signal
 * (SIGTERM/SIGINT, or the parent process going away) and the prediction endpoint's start and
 * drained stop.
 */
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { LionctrConfig } from '../../config/schema.ts';
import type { ServeMetrics } from '../../metrics/catalogue.ts';
import { observeRegistry } from '../../metrics/serve-observer.ts';
import { createHttpServer } from '../../serve/http-server.ts';
import { configureServingTower } from '../../model/serving-tower.ts';
import { ModelRegistry } from '../../serve/model-registry.ts';
import type { WorkerSide } from './serve-cluster.ts';

/**
 * Aborts on the first SIGTERM/SIGINT, or, when started by an npm script (`npm_lifecycle_event` set),
 * when the parent process goes away (`npm start` killed without passing the signal on); a second signal
 * exits at once (status 130). The signal's reason is its name (`SIGTERM`, `SIGINT`, or
 * `parent process N exited`). @param what what a graceful stop does, for the log line.
 */
export function shutdownSignal(logger: Logger, what: string): AbortController {
  const ac = new AbortController();
  const onSignal = (sig: string) => {
    if (ac.signal.aborted) {
      logger.warn(`${sig} again: exiting now`);
      process.exit(130);
    }
    logger.info(`${sig}: ${what}`);
    ac.abort(sig);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  // only under an npm script (`npm start`): a daemon started directly (`lionctr serve &` from a script that
  // then exits) outlives its parent, as daemons do
  if (process.env.npm_lifecycle_event === undefined) return ac;
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid !== parent && !ac.signal.aborted) onSignal(`parent process ${parent} exited`);
  }, 1000);
  watch.unref();
  return ac;
}

/**
 * Resolves when the shutdown signal fires, at once when it already has (a SIGTERM during start-up,
 * e.g. while `serve --workers N` waits for its first export: the 'abort' event is not fired again).
 */
export const untilAborted = (signal: AbortSignal) =>
  signal.aborted
    ? Promise.resolve()
    : new Promise<void>((res) => signal.addEventListener('abort', () => res(), { once: true }));

/** The header naming the worker process that answered (`serve --workers N`: 1..N, restarts get new ids). */
export const WORKER_HEADER = 'x-lionctr-worker';

/** A started prediction endpoint: the export registry (polling LATEST) and the fastify app. */
export type RunningServer = Awaited<ReturnType<typeof startServer>>;

/**
 * Starts the prediction endpoint on serve.host:serve.port over the exports root `exportDir`
 * (absolute) and starts polling its LATEST, keeping serve.keepVersions versions (and the
 * serve.labels ones) loaded, each with its serving tower (serve.tower); the process logger logs
 * loads and every 5xx answer; `draining`
 * aborted makes /readyz answer 503. `worker`: this process is worker `id` of `serve --workers N`
 * (src/cli/commands/serve-cluster.ts): every response names it in the x-lionctr-worker header,
 * /metrics answers `scrape()` (the sum over the workers), and it listens only once its first
 * export is loaded (or after 60 s without one), so that a restarted worker takes no requests it
 * would answer 503. `trainingStatus`: `run`'s trainer supervisor, whose state /readyz shows as `training`.
 */
export async function startServer(
  cfg: LionctrConfig,
  logger: Logger,
  exportDir: string,
  metrics: ServeMetrics,
  draining?: AbortSignal,
  worker?: WorkerSide & { id: number },
  trainingStatus?: () => string,
) {
  const { keepVersions, labels, deltaMaxDeferSeconds } = cfg.serve;
  configureServingTower({ kind: cfg.serve.tower, threads: cfg.serve.towerThreads });
  const policy = { keepVersions, labels, deltaMaxDeferSeconds };
  // once listening (a worker: before its wait for the first export), so that a port in use is the one error shown
  const warnNoDir = () => {
    if (!existsSync(exportDir))
      logger.warn(
        { exportDir },
        `export dir ${exportDir} does not exist (yet): waiting for a trainer to write LATEST there`,
      );
  };
  const registry = new ModelRegistry(exportDir, logger, cfg.serve.pollSeconds, policy);
  observeRegistry(registry, metrics);
  const isDraining = () => !!draining?.aborted;
  const app = createHttpServer({
    registry,
    metrics,
    modelName: cfg.serve.modelName,
    isDraining,
    logger,
    scrape: worker?.scrape,
    clusterMetrics: worker?.clusterMetrics,
    limits: cfg.serve,
    trainingStatus,
    statusHistory: cfg.serve.statusHistory,
    unknownSlots: cfg.serve.unknownSlots === 'model' ? undefined : cfg.serve.unknownSlots,
    // every response names its worker (the predict hot path too: it answers before fastify's hooks)
    responseHeaders: worker ? { [WORKER_HEADER]: String(worker.id) } : undefined,
  });
  if (worker) {
    warnNoDir();
    // a worker (re)started beside serving ones takes connections only once it can answer them
    registry.start();
    await firstLoad(registry, WORKER_LOAD_WAIT_MS);
  }
  await app.listen({ host: cfg.serve.host, port: cfg.serve.port });
  if (!worker) warnNoDir();
  const base = `http://${cfg.serve.host.includes(':') ? `[${cfg.serve.host}]` : cfg.serve.host}:${cfg.serve.port}`;
  logger.info(`prediction endpoint: ${base}/v1/models/${cfg.serve.modelName}:predict  metrics: /metrics`);
  if (!worker) registry.start();
  return { registry, app };
}

/** How long a worker of `serve --workers N` waits for its first export before it listens anyway. */
const WORKER_LOAD_WAIT_MS = 60_000;

/** Resolves when `registry` has loaded a version, or after `ms` (no export yet: listen, /readyz says so). */
function firstLoad(registry: ModelRegistry, ms: number): Promise<void> {
  if (registry.current()) return Promise.resolve();
  return new Promise((res) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      registry.off('loaded', done);
      res();
    }
    registry.on('loaded', done);
  });
}

/**
 * Stops a server started by startServer: the drain period (serve.drainSeconds; its /readyz
 * already answers 503 since the shutdown signal, predictions are still served), then close,
 * then stop polling.
 */
export async function stopServer(cfg: LionctrConfig, logger: Logger, s: RunningServer): Promise<void> {
  if (cfg.serve.drainSeconds > 0) {
    logger.info(`draining for ${cfg.serve.drainSeconds} s (/readyz answers 503, predictions still served)`);
    await new Promise((r) => setTimeout(r, cfg.serve.drainSeconds * 1000));
  }
  await s.app.close();
  s.registry.stop();
}
