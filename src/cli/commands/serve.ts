/** `lionctr serve`: serves the latest export under an exports root, hot-swapping newer ones. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { createLogger } from '../../log.ts';
import { createServeMetrics } from '../../metrics/catalogue.ts';
import { selectBackend } from '../../model/backend.ts';
import { configFrom, fatal, withConfigOptions } from '../common.ts';
import { endpointOptions, serveFlags } from './flags.ts';
import { shutdownSignal, startServer, stopServer, untilAborted } from './lifecycle.ts';

/** Adds `serve` to the program. */
export function addServeCommand(program: Command): void {
  withConfigOptions(
    endpointOptions(
      program
        .command('serve')
        .description('serve the latest export under an exports root, hot-swapping newer ones')
        .option('--export-dir <dir>', 'exports root (export.dir)'),
    ),
  ).action(async (o) => {
    try {
      const cfg = configFrom(o, serveFlags(o));
      const logger = createLogger(cfg.log.level);
      const ac = shutdownSignal(logger, 'finishing requests in flight, shutting down');
      await selectBackend(cfg.backend, (m) => logger.info(m));
      const { registry, app } = await startServer(
        cfg,
        logger,
        resolve(cfg.export.dir),
        createServeMetrics(),
        ac.signal,
      );
      await untilAborted(ac.signal);
      await stopServer(cfg, logger, { app, registry });
    } catch (e) {
      fatal(e);
    }
  });
}
