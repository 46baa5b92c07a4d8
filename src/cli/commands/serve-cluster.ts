/**
 * `lionctr serve` with serve.workers > 1 (node:cluster): a primary process that forks N workers
 * sharing the port, restarts a worker that dies (with backoff), passes a shutdown on to every
 * worker and exits when all are gone; each worker runs the same endpoint as a single-process
 * `serve` (startServer) and loads the exports itself. /metrics on any worker answers the sum over
 * the workers: the worker asks the primary over IPC, the primary asks every worker for its registry
 * as JSON and combines them (src/cli/commands/cluster-gather.ts, with prom-client's
 * AggregatorRegistry.aggregate as its example/cluster.js does): counters and histograms by sum, a
 * dead worker's last ones carried forward, the catalogue's non-sum gauges by their own `aggregator`
 * (src/metrics/catalogue.ts).
 *
 * Connections are accepted by the workers themselves on the shared socket (cluster.SCHED_NONE), not by
 * the primary (SCHED_RR, Node's default on Linux): the primary keeps a connection it hands out open
 * until the worker acknowledges it, so one handed to a worker that was just killed was never answered
 * nor closed (the client hung until its own timeout). With SCHED_NONE a connection waiting in the
 * socket's queue is taken by a live worker, and a killed worker's own connections are reset by the
 * kernel at once.
 *
 * A worker that fails to start (exits before listening: the port in use, an export that does not
 * load) tells the primary its error over IPC before it exits; after serve.workerStartFailures such
 * failures in a row (a worker that listens resets the count) the primary stops the others and fails
 * with that error instead of forking them again forever. Failures are counted in
 * lionctr_serve_worker_failures_total (by stage), which the primary adds to the workers' sum.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import client from 'prom-client';
import { isErrorCode, LionctrError } from '../../errors.ts';
import { type ServeMetrics, workerFailureMetrics } from '../../metrics/catalogue.ts';
import { JSON_REQ, JSON_RES, makeGather, type MetricsJson } from './cluster-gather.ts';

/** IPC message types between the primary and its workers (prom-client uses its own beside these). */
const SCRAPE_REQ = 'lionctr:scrapeReq';
const SCRAPE_RES = 'lionctr:scrapeRes';
const SHUTDOWN = 'lionctr:shutdown';
/** A worker's error, sent before it exits (workerFailed). */
const WORKER_ERROR = 'lionctr:workerError';
/** The status page's combined metrics: a worker asks the primary (AGG), the primary asks each worker (JSON_*). */
const AGG_REQ = 'lionctr:aggJsonReq';
const AGG_RES = 'lionctr:aggJsonRes';

/** Restart backoff after a worker dies: doubles from 1 s to 30 s; reset once a worker lived 60 s. */
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
const STABLE_MS = 60_000;

type Msg = { type?: string; id?: number; text?: string; error?: string; code?: string; json?: MetricsJson };

/** A worker's error as it reported it (workerFailed), or as its exit describes it. */
type WorkerError = { message: string; code?: string };

/**
 * Runs the primary: forks `n` workers (each re-runs this command line with the same environment),
 * restarts any that exits before the shutdown, after a backoff (1 s doubling to 30 s, logged);
 * answers workers' scrape requests with the sum of their metrics and its own
 * (lionctr_serve_worker_failures_total). After `maxStartFailures` workers in a row exit before
 * listening, it stops the others as on `shutdown` and rejects with the last one's error. On `shutdown` it
 * sends every worker the shutdown message (each drains as a single `serve` does on SIGTERM) and
 * resolves with the exit status once all have exited: 0, or 1 if one exited otherwise than 0. A
 * worker still running `graceMs` after the shutdown (one that missed the message while starting)
 * gets SIGTERM.
 */
export async function runPrimary(
  n: number,
  logger: Logger,
  shutdown: AbortSignal,
  graceMs: number,
  maxStartFailures = Number.POSITIVE_INFINITY,
): Promise<number> {
  // read by the first fork (cluster.setupPrimary freezes it), before any worker listens
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const own = new client.Registry();
  const { serveWorkerFailures } = workerFailureMetrics(own);
  // the service's start: the workers' start times are combined by min (catalogue.ts), so a restarted worker does
  // not move it (its counters are carried forward, makeGather)
  new client.Gauge({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since unix epoch in seconds.',
    registers: [own],
    aggregator: 'min',
  }).set(Math.round(Date.now() / 1000 - process.uptime()));
  let backoff = BACKOFF_MIN_MS;
  let failed = false;
  const started = new Map<Worker, number>();
  const listening = new Set<Worker>();
  const errors = new Map<Worker, WorkerError>();
  let failedStarts = 0;
  let gaveUp: WorkerError | undefined;
  const stopping = () => shutdown.aborted || gaveUp !== undefined;
  const fork = () => {
    const w = cluster.fork();
    started.set(w, Date.now());
    w.on('online', () => logger.info(`worker ${w.id} started (pid ${w.process.pid})`));
    // a message sent to a worker that died since it was seen connected fails with EPIPE, emitted as
    // 'error' on the worker: without a listener it would take the primary down (seen under load in
    // serve-workers.test.ts, a worker killed while a scrape gathered); its exit is handled below
    w.on('error', (e: Error) => logger.warn(`worker ${w.id}: ${e.message}`));
    w.on('listening', () => {
      listening.add(w);
      failedStarts = 0;
    });
  };
  const { gather, retire } = makeGather(own);
  cluster.on('message', (w, m: Msg) => {
    if (m?.type === WORKER_ERROR) errors.set(w, { message: m.error ?? '', code: m.code });
    if (m?.type === AGG_REQ)
      gather().then(
        async (r) => w.isConnected() && w.send({ type: AGG_RES, id: m.id, json: await r.getMetricsAsJSON() }),
        (e: Error) => w.isConnected() && w.send({ type: AGG_RES, id: m.id, error: e.message }),
      );
    if (m?.type !== SCRAPE_REQ) return;
    gather().then(
      async (r) => w.isConnected() && w.send({ type: SCRAPE_RES, id: m.id, text: await r.metrics() }),
      (e: Error) => w.isConnected() && w.send({ type: SCRAPE_RES, id: m.id, error: e.message }),
    );
  });
  let finish: (status: number) => void = () => {};
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });
  const finishIfAllGone = () => stopping() && started.size === 0 && finish(failed ? 1 : 0);
  const stopAll = () => {
    for (const w of started.keys()) if (w.isConnected()) w.send({ type: SHUTDOWN });
    finishIfAllGone(); // none running: a restart was pending
    setTimeout(() => {
      for (const w of started.keys()) {
        logger.warn(`worker ${w.id} (pid ${w.process.pid}) still running ${graceMs / 1000} s after shutdown: SIGTERM`);
        w.process.kill('SIGTERM');
      }
    }, graceMs).unref();
  };
  const pendingRestarts = new Set<NodeJS.Timeout>();
  cluster.on('exit', (w, code, signal) => {
    retire(w);
    const lived = Date.now() - (started.get(w) ?? Date.now());
    started.delete(w);
    const how = signal ? `signal ${signal}` : `status ${code}`;
    if (stopping()) {
      if (code !== 0) failed = true;
      logger.info(`worker ${w.id} (pid ${w.process.pid}) exited with ${how}`);
      finishIfAllGone();
      return;
    }
    const err = errors.get(w);
    const stage = listening.has(w) ? 'running' : 'start';
    errors.delete(w);
    listening.delete(w);
    if (stage === 'running' && code === 0 && !err && lived >= BACKOFF_MIN_MS) {
      // a worker that drained and exited 0 (a SIGTERM to it alone): no failure, no backoff; replaced at once
      logger.info(`worker ${w.id} (pid ${w.process.pid}) stopped (status 0); starting another`);
      fork();
      return;
    }
    serveWorkerFailures.labels({ stage }).inc();
    const why = `${how}${err ? `: ${err.message}` : ''}`;
    const said = `worker ${w.id} (pid ${w.process.pid}) ${
      stage === 'start' ? `failed to start (${failedStarts + 1} in a row): exited` : 'died'
    } with ${why}`;
    if (stage === 'start' && ++failedStarts >= maxStartFailures) {
      logger.error(said);
      logger.error(
        `workers failed to start ${failedStarts} times in a row (serve.workerStartFailures): stopping the others; ` +
          'fix the cause and start again',
      );
      gaveUp = err ?? { message: `worker ${w.id} exited with ${how} before it listened` };
      for (const t of pendingRestarts) clearTimeout(t);
      stopAll();
      return;
    }
    if (lived >= STABLE_MS) backoff = BACKOFF_MIN_MS;
    logger.error(`${said}; restarting in ${backoff / 1000} s`);
    const t = setTimeout(() => {
      pendingRestarts.delete(t);
      if (!stopping()) fork();
    }, backoff);
    pendingRestarts.add(t);
    shutdown.addEventListener('abort', () => clearTimeout(t), { once: true });
    backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
  });
  for (let i = 0; i < n; i++) fork();
  // a second signal makes the primary exit at once (shutdownSignal): take the workers with it
  process.on('exit', () => {
    for (const w of started.keys()) w.process.kill('SIGKILL');
  });
  shutdown.addEventListener('abort', () => gaveUp || stopAll(), { once: true });
  const status = await done;
  if (!gaveUp) return status;
  const { message, code } = gaveUp;
  // the worker's own error, as a single `serve` would have failed with it
  throw isErrorCode(code) ? new LionctrError(code, message) : Object.assign(new Error(message), { code });
}

/**
 * In a worker that fails (its `serve` threw): sends the error to the primary, then exits as a
 * single `serve` does (`exit`: fatal). Without the primary's channel, or when the message is not
 * through in 1 s, it exits all the same.
 */
export function workerFailed(e: unknown, exit: (e: unknown) => never): void {
  const err = e as Error & { code?: unknown };
  const code = typeof err?.code === 'string' ? err.code : undefined;
  if (!process.send || !process.connected) exit(e);
  setTimeout(() => exit(e), 1000);
  process.send({ type: WORKER_ERROR, error: String(err?.message ?? e), code }, undefined, {}, () => exit(e));
}

/** What a worker of `serve --workers N` reads from the others (through the primary). */
export interface WorkerSide {
  /** /metrics's answer: the primary's sum over the workers (Prometheus text). */
  scrape: () => Promise<string>;
  /** The same sum as prom-client JSON, for the status page's sampler. */
  clusterMetrics: () => Promise<MetricsJson>;
}

/**
 * In a worker: aborts `ac` when the primary passes on a shutdown (a signal the worker got itself,
 * e.g. Ctrl-C to the process group, has already aborted it: the message is then ignored), makes
 * prom-client answer the primary's metric requests from this worker's `metrics.registry` (the
 * served model's age computed at scrape time), answers the primary's JSON requests likewise, and
 * returns the readers of the primary's sum over the workers.
 * @throws Error (from the readers) when the primary does not answer in 10 s or reports an error.
 */
export function workerSide(
  metrics: ServeMetrics,
  ageOf: () => number | undefined,
  logger: Logger,
  ac: AbortController,
): WorkerSide {
  new client.AggregatorRegistry(); // installs prom-client's worker-side listener
  client.AggregatorRegistry.setRegistries([metrics.registry]);
  // the age of the served model at scrape time, whichever worker the scrape reached
  const age = metrics.servedAge as unknown as { collect?: () => void };
  age.collect = () => {
    const a = ageOf();
    if (a !== undefined) metrics.servedAge.set(a);
  };
  let next = 0;
  const pending = new Map<number, { ok(m: Msg): void; fail(e: Error): void }>();
  process.on('message', (m: Msg) => {
    if (m?.type === SHUTDOWN && !ac.signal.aborted) {
      logger.info('primary is shutting down: finishing requests in flight');
      ac.abort();
    } else if (m?.type === JSON_REQ) {
      metrics.registry.getMetricsAsJSON().then(
        (json) => process.send?.({ type: JSON_RES, id: m.id, json }),
        () => process.send?.({ type: JSON_RES, id: m.id }),
      );
    } else if ((m?.type === SCRAPE_RES || m?.type === AGG_RES) && m.id !== undefined) {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.error !== undefined) p?.fail(new Error(`cluster metrics: ${m.error}`));
      else p?.ok(m);
    }
  });
  const ask = (type: string) =>
    new Promise<Msg>((ok, fail) => {
      const id = next++;
      const t = setTimeout(() => {
        pending.delete(id);
        fail(new Error('cluster metrics: the primary did not answer in 10 s'));
      }, 10_000);
      pending.set(id, {
        ok: (m) => {
          clearTimeout(t);
          ok(m);
        },
        fail: (e) => {
          clearTimeout(t);
          fail(e);
        },
      });
      process.send?.({ type, id });
    });
  return {
    scrape: async () => (await ask(SCRAPE_REQ)).text ?? '',
    clusterMetrics: async () => (await ask(AGG_REQ)).json ?? [],
  };
}
