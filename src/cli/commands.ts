import { Command, InvalidArgumentError, Option } from 'commander';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { createMetrics } from '../metrics/catalogue.ts';
import { createLogger } from '../log.ts';
import { selectBackend } from '../model/backend.ts';
import { loadExport, resolveExportDir } from '../model/export-reader.ts';
import { createHttpServer } from '../serve/http-server.ts';
import { ModelRegistry } from '../serve/model-registry.ts';
import { evalFigures } from '../train/evaluation/binary-metrics.ts';
import { createFileSource, type FileFormat } from '../ingest/file-source.ts';
import { Featurizer } from '../features/featurizer.ts';
import { configFrom, fatal, withConfigOptions } from './common.ts';
import { produceCommand } from './produce.ts';
import { topicsCommand } from './topics.ts';
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { observeTrainer } from '../metrics/train-observer.ts';
import { observeRegistry } from '../metrics/serve-observer.ts';
import { emitTrainEventMessage, type TrainEmitter, type TrainEventMessage } from '../events/train-events.ts';
import type { TrainSummary } from '../train/trainer.ts';
import { createTrainer } from './train-session.ts';
import type { LionctrConfig } from '../config/schema.ts';
import type { Logger } from 'pino';
import { LionctrError } from '../errors.ts';

/**
 * Aborts on the first SIGTERM/SIGINT, or when the parent process goes away (a wrapper such
 * as `npm start`'s shell that was killed without passing the signal on); a second signal
 * exits at once. @param what what a graceful stop does, for the log line.
 */
function shutdownSignal(logger: Logger, what: string): AbortController {
  const ac = new AbortController();
  const onSignal = (sig: string) => {
    if (ac.signal.aborted) { logger.warn(`${sig} again: exiting now`); process.exit(130); }
    logger.info(`${sig}: ${what}`);
    ac.abort();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  const parent = process.ppid;
  const watch = setInterval(() => { if (process.ppid !== parent && !ac.signal.aborted) onSignal(`parent process ${parent} exited`); }, 1000);
  watch.unref();
  return ac;
}

async function startServer(cfg: LionctrConfig, logger: Logger, exportDir: string, metrics: ReturnType<typeof createMetrics>, draining?: AbortSignal) {
  const registry = new ModelRegistry(exportDir, logger, cfg.serve.pollSeconds);
  observeRegistry(registry, metrics);
  const app = createHttpServer({ registry, metrics, modelName: cfg.serve.modelName, isDraining: () => !!draining?.aborted });
  await app.listen({ host: cfg.serve.host, port: cfg.serve.port });
  logger.info(`prediction endpoint: http://${cfg.serve.host}:${cfg.serve.port}/v1/models/${cfg.serve.modelName}:predict  metrics: /metrics`);
  registry.start();
  return { registry, app };
}

/**
 * Runs the trainer in a worker thread (src/cli/train-worker.ts), feeding its events to the
 * metrics; `signal` asks it to stop gracefully. Resolves with its summary.
 * @throws Error when the worker fails (its error message).
 */
function runTrainerWorker(cfg: LionctrConfig, exportDir: string, metrics: ReturnType<typeof createMetrics>, signal: AbortSignal): Promise<TrainSummary> {
  const worker = new Worker(new URL('./train-worker-boot.mjs', import.meta.url), { workerData: { cfg, exportDir } });
  const events: TrainEmitter = new EventEmitter();
  observeTrainer(events, metrics);
  signal.addEventListener('abort', () => worker.postMessage({ type: 'stop' }));
  return new Promise((resolveRun, reject) => {
    let summary: TrainSummary | undefined;
    worker.on('message', (msg: TrainEventMessage | { type: 'done'; payload: TrainSummary }) => {
      if (msg.type === 'done') summary = msg.payload;
      else emitTrainEventMessage(events, msg);
    });
    worker.on('error', reject);
    worker.on('exit', (code) => (summary ? resolveRun(summary) : reject(new Error(`trainer worker exited with code ${code} before finishing`))));
  });
}

/** `--port` / `--export-dir` of run and serve as config overrides. */
const serveFlags = (o: { port?: string; exportDir?: string; checkpointDir?: string; brokers?: string }): string[] => [
  ...(o.port ? [`serve.port=${o.port}`] : []),
  ...brokerFlag(o),
  ...(o.checkpointDir ? [`checkpoint.dir=${JSON.stringify(o.checkpointDir)}`] : []),
  ...(o.exportDir ? [`export.dir=${JSON.stringify(o.exportDir)}`] : []),
];

/** `--brokers h1:9092,h2:9092` as the kafka.brokers override. */
const brokerFlag = (o: { brokers?: string }): string[] => (o.brokers ? [`kafka.brokers=${JSON.stringify(o.brokers.split(',').map((x) => x.trim()).filter(Boolean))}`] : []);

/**
 * Stops a server started by startServer: the drain period (its /readyz already answers 503
 * since the shutdown signal; predictions are still served), then close, then stop polling.
 */
async function stopServer(cfg: LionctrConfig, logger: Logger, s: Awaited<ReturnType<typeof startServer>>): Promise<void> {
  if (cfg.serve.drainSeconds > 0) {
    logger.info(`draining for ${cfg.serve.drainSeconds} s (/readyz answers 503, predictions still served)`);
    await new Promise((r) => setTimeout(r, cfg.serve.drainSeconds * 1000));
  }
  await s.app.close();
  s.registry.stop();
}

/** Resolves when the shutdown signal fires. */
const untilAborted = (signal: AbortSignal) => new Promise<void>((res) => signal.addEventListener('abort', () => res(), { once: true }));

const fileFormat = () => new Option('--format <format>', 'input format').choices(['criteo', 'csv', 'jsonl']).default('criteo');
const intArg = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer.`);
  return n;
};

/** The `lionctr` command tree. */
export function buildProgram(): Command {
  const program = new Command('lionctr')
    .description('Online CTR training with the Lion optimizer: train, export, serve, evaluate')
    .version((createRequire(import.meta.url)('../../package.json') as { version: string }).version)
    .showHelpAfterError();

  withConfigOptions(program.command('run')
    .description('trainer + prediction endpoint in one process (the configured source; synthetic click stream by default); resumes from the newest checkpoint')
    .option('--port <port>', 'port of the prediction endpoint (serve.port)')
    .option('--export-dir <dir>', 'exports root (export.dir)')
    .option('--checkpoint-dir <dir>', 'checkpoints root (checkpoint.dir; default <export-dir>/checkpoints)')
    .option('--brokers <host:port,...>', 'Kafka bootstrap brokers (kafka.brokers) when source.kind is kafka'))
    .action(async (o) => {
      try {
        const cfg = configFrom(o, serveFlags(o));
        const logger = createLogger(cfg.log.level);
        const ac = shutdownSignal(logger, 'finishing the current step, exporting, shutting down');
        const metrics = createMetrics();
        const exportDir = resolve(cfg.export.dir);
        await selectBackend(cfg.backend as 'auto', (m) => logger.info(`serving: ${m}`));
        const { registry, app } = await startServer(cfg, logger, exportDir, metrics, ac.signal);
        const summary = await runTrainerWorker(cfg, exportDir, metrics, ac.signal);
        logger.info({ summary: summary.progress }, `training finished after ${summary.progress.examples} examples`);
        if (!ac.signal.aborted) {
          logger.info('source ended; still serving the last export (SIGTERM to stop)');
          await untilAborted(ac.signal);
        }
        await stopServer(cfg, logger, { app, registry });
      } catch (e) { fatal(e); }
    });

  withConfigOptions(program.command('train')
    .description('train from a file (or from the configured source when --input is absent); export at the end and on the export interval')
    .option('--input <file>', 'training file')
    .addOption(fileFormat())
    .option('--skip <n>', 'data rows to skip first', intArg('--skip'))
    .option('--limit <n>', 'max data rows per pass after skipping', intArg('--limit'))
    .option('--epochs <n>', 'passes over the file', intArg('--epochs'))
    .option('--max-examples <n>', 'stop after this many examples (train.maxExamples)', intArg('--max-examples'))
    .option('--export-dir <dir>', 'exports root (export.dir)')
    .option('--checkpoint-dir <dir>', 'checkpoints root (checkpoint.dir; default <export-dir>/checkpoints); training resumes from the newest one there')
    .option('--brokers <host:port,...>', 'Kafka bootstrap brokers (kafka.brokers) when source.kind is kafka'))
    .action(async (o) => {
      try {
        const extra: string[] = [];
        if (o.input) extra.push('source.kind="file"', `source.path=${JSON.stringify(resolve(o.input))}`, `source.format="${o.format}"`);
        if (o.skip !== undefined) extra.push(`source.skip=${o.skip}`);
        if (o.limit !== undefined) extra.push(`source.limit=${o.limit}`);
        if (o.epochs !== undefined) extra.push(`source.epochs=${o.epochs}`);
        if (o.maxExamples !== undefined) extra.push(`train.maxExamples=${o.maxExamples}`);
        if (o.exportDir) extra.push(`export.dir=${JSON.stringify(o.exportDir)}`);
        if (o.checkpointDir) extra.push(`checkpoint.dir=${JSON.stringify(o.checkpointDir)}`);
        extra.push(...brokerFlag(o));
        const cfg = configFrom(o, extra);
        if (cfg.source.kind === 'synthetic' && !cfg.train.maxExamples) throw Object.assign(new Error('the synthetic source never ends: give --input or --max-examples'), { code: 'LIONCTR_BAD_CONFIG' });
        const logger = createLogger(cfg.log.level);
        const ac = shutdownSignal(logger, 'finishing the current step, exporting, exiting');
        const trainer = await createTrainer(cfg, logger, { signal: ac.signal, exportDir: resolve(cfg.export.dir) });
        const s = await trainer.run();
        if (s.progress.examples === 0 && !ac.signal.aborted) throw new LionctrError('LIONCTR_BAD_INPUT', `no usable rows: nothing was trained (bad rows: ${JSON.stringify(s.badRows)})`, { where: cfg.source.kind === 'file' ? cfg.source.path : cfg.source.kind });
        process.stdout.write(JSON.stringify({ examples: s.progress.examples, examples_this_run: s.examplesThisRun, steps: s.progress.step, seconds: s.seconds, examples_per_second: s.examplesThisRun / Math.max(s.seconds, 1e-9), progressive: s.progress, exports: s.exports, export_dir: resolve(cfg.export.dir) }) + '\n');
      } catch (e) { fatal(e); }
    });

  withConfigOptions(program.command('serve')
    .description('serve the latest export under an exports root, hot-swapping newer ones')
    .option('--export-dir <dir>', 'exports root (export.dir)')
    .option('--port <port>', 'port (serve.port)'))
    .action(async (o) => {
      try {
        const cfg = configFrom(o, serveFlags(o));
        const logger = createLogger(cfg.log.level);
        const ac = shutdownSignal(logger, 'finishing requests in flight, shutting down');
        await selectBackend(cfg.backend as 'auto', (m) => logger.info(m));
        const { registry, app } = await startServer(cfg, logger, resolve(cfg.export.dir), createMetrics(), ac.signal);
        await untilAborted(ac.signal);
        await stopServer(cfg, logger, { app, registry });
      } catch (e) { fatal(e); }
    });

  withConfigOptions(program.command('eval')
    .description('evaluate an export on a file: AUC, logloss, NE, calibration, examples')
    .requiredOption('--model <dir>', 'export version dir, or exports root (uses LATEST)')
    .requiredOption('--input <file>', 'evaluation file')
    .addOption(fileFormat())
    .option('--skip <n>', 'data rows to skip first', intArg('--skip'))
    .option('--limit <n>', 'max data rows after skipping', intArg('--limit'))
    .option('--json', 'print one JSON object {auc, logloss, ne, calibration, examples}'))
    .action(async (o) => {
      try {
        const cfg = configFrom(o);
        const logger = createLogger(cfg.log.level);
        await selectBackend(cfg.backend as 'auto', (m) => logger.debug(m));
        const dir = await resolveExportDir(resolve(o.model));
        const { model, manifest } = await loadExport(dir);
        const fz = new Featurizer(manifest.schema);
        const src = createFileSource({ path: resolve(o.input), format: o.format as FileFormat, schema: manifest.schema, skip: o.skip ?? 0, limit: o.limit || undefined });
        const ps: number[] = [], ys: number[] = [];
        for await (const rb of src.batches({ batchSize: 4096 })) {
          const b = fz.fromRecordBatch(rb);
          const p = model.predict(b);
          for (let i = 0; i < b.size; i++) { ps.push(p[i]); ys.push(b.labels[i]); }
        }
        if (ps.length === 0) throw new LionctrError('LIONCTR_BAD_INPUT', `no usable rows to evaluate (bad rows: ${JSON.stringify(src.stats().bad)})`, { where: o.input });
        const f = evalFigures(ps, ys);
        if (o.json) process.stdout.write(JSON.stringify(f) + '\n');
        else process.stdout.write(`model ${manifest.version} (step ${manifest.step}) on ${o.input}: AUC ${f.auc.toFixed(4)}  logloss ${f.logloss.toFixed(4)}  NE ${f.ne.toFixed(4)}  calibration ${f.calibration.toFixed(3)}  examples ${f.examples}\n`);
        model.dispose();
      } catch (e) { fatal(e); }
    });
  program.addCommand(produceCommand());
  program.addCommand(topicsCommand());
  return program;
}
