/**
 * `lionctr train`: trains from a file (or the configured source) into its own exports root
 * (required: never the demo's default), exporting at the end and on the export interval, and
 * prints a JSON summary line on stdout; a run stopped by a signal before its end exits non-zero
 * saying how far it got (src/cli/train-report.ts).
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { LionctrError } from '../../errors.ts';
import { createLogger } from '../../log.ts';
import { checkpointDirOf } from '../checkpoint-dir.ts';
import { checkInput, fatal, loadCommandConfig, withConfigOptions } from '../common.ts';
import { createTrainer } from '../train-session.ts';
import { interruptedExit, interruptedLine, interruption, nothingTrainedLine, trainStartLine } from '../train-report.ts';
import { brokerFlag, fileFormat, intArg } from './flags.ts';
import { shutdownSignal } from './lifecycle.ts';

/** The flags of `train` as config overrides (`key=value`). */
function trainFlags(o: {
  input?: string;
  format?: string;
  skip?: number;
  limit?: number;
  epochs?: number;
  maxExamples?: number;
  exportDir?: string;
  checkpointDir?: string;
  brokers?: string;
}): string[] {
  const extra: string[] = [];
  if (o.input) extra.push('source.kind="file"', `source.path=${JSON.stringify(resolve(o.input))}`);
  if (o.format) extra.push(`source.format=${JSON.stringify(o.format)}`);
  if (o.skip !== undefined) extra.push(`source.skip=${o.skip}`);
  if (o.limit !== undefined) extra.push(`source.limit=${o.limit}`);
  if (o.epochs !== undefined) extra.push(`source.epochs=${o.epochs}`);
  if (o.maxExamples !== undefined) extra.push(`train.maxExamples=${o.maxExamples}`);
  if (o.exportDir) extra.push(`export.dir=${JSON.stringify(o.exportDir)}`);
  if (o.checkpointDir) extra.push(`checkpoint.dir=${JSON.stringify(o.checkpointDir)}`);
  extra.push(...brokerFlag(o));
  return extra;
}

/** Why `train` refuses to run on the default exports root. */
const NEEDS_EXPORT_DIR =
  'train needs its own exports root: give --export-dir DIR (or export.dir in a --config file, ' +
  'LIONCTR_EXPORT_DIR, --set export.dir=...); the default "exports" is the demo\'s (`lionctr run`), ' +
  'whose checkpoint train would resume';

/** Adds `train` to the program. */
export function addTrainCommand(program: Command): void {
  withConfigOptions(
    program
      .command('train')
      .description(
        'train from a file (or from the configured source when --input is absent); ' +
          'export at the end and on the export interval. Stopped by SIGTERM/SIGINT before its end, it ' +
          'checkpoints, says how far it got and exits 143/130',
      )
      .option('--input <file>', 'training file')
      .addOption(fileFormat())
      .option('--skip <n>', 'data rows to skip first', intArg('--skip'))
      .option('--limit <n>', 'max data rows per pass after skipping', intArg('--limit'))
      .option('--epochs <n>', 'passes over the file', intArg('--epochs'))
      .option('--max-examples <n>', 'stop after this many examples (train.maxExamples)', intArg('--max-examples'))
      .option('--export-dir <dir>', 'exports root (export.dir); required unless a config file, env or --set sets it')
      .option(
        '--checkpoint-dir <dir>',
        'checkpoints root (checkpoint.dir; default <export-dir>/checkpoints); ' +
          'training resumes from the newest one there',
      )
      .option('--brokers <host:port,...>', 'Kafka bootstrap brokers (kafka.brokers) when source.kind is kafka'),
  ).action(async (o) => {
    try {
      const { config: cfg, origins } = loadCommandConfig(o, trainFlags(o));
      if (cfg.source.kind === 'synthetic' && !cfg.train.maxExamples) {
        const msg = 'the synthetic source never ends: give --input or --max-examples';
        throw new LionctrError('LIONCTR_BAD_CONFIG', msg);
      }
      if (!origins.has('export.dir')) throw new LionctrError('LIONCTR_BAD_CONFIG', NEEDS_EXPORT_DIR);
      checkInput(cfg); // before anything is created
      const logger = createLogger(cfg.log.level);
      const exportDir = resolve(cfg.export.dir);
      const ckptDir = checkpointDirOf(cfg, exportDir);
      logger.info(trainStartLine(cfg, origins, exportDir, ckptDir));
      const ac = shutdownSignal(logger, 'finishing the current step, checkpointing, exporting, exiting');
      const trainer = await createTrainer(cfg, logger, { signal: ac.signal, exportDir });
      const s = await trainer.run();
      if (s.progress.examples === 0 && !ac.signal.aborted) {
        const where = cfg.source.kind === 'file' ? cfg.source.path : cfg.source.kind;
        const msg = `no usable rows: nothing was trained (bad rows: ${JSON.stringify(s.badRows)})`;
        throw new LionctrError('LIONCTR_BAD_INPUT', msg, { where });
      }
      const stopped = interruption(cfg, s, ac.signal);
      process.stdout.write(
        `${JSON.stringify({
          examples: s.progress.examples,
          examples_this_run: s.examplesThisRun,
          steps: s.progress.step,
          seconds: s.seconds,
          examples_per_second: s.examplesThisRun / Math.max(s.seconds, 1e-9),
          progressive: s.progress,
          exports: s.exports,
          export_dir: exportDir,
          ...(stopped ? { interrupted: stopped } : {}),
        })}\n`,
      );
      if (stopped) {
        process.stderr.write(interruptedLine(stopped, s, ckptDir));
        process.exit(interruptedExit(stopped));
      }
      if (s.examplesThisRun === 0 && !ac.signal.aborted) process.stderr.write(nothingTrainedLine(s, ckptDir));
    } catch (e) {
      fatal(e);
    }
  });
}
