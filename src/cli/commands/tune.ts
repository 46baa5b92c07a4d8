/**
 * `lionctr tune`: searches model family, embedding dim, learning rates, weight decays,
 * schedule, batch size and passes on a time-ordered split of a file (src/cli/tune/), prints
 * the best config as JSON on stdout (or --out FILE) for `train --config`, and the table of
 * trials on stderr (or everything as one JSON object with --json).
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LionctrError } from '../../errors.ts';
import { checkInput, fatal, loadCommandConfig, withConfigOptions } from '../common.ts';
import { runTune } from '../tune/run-tune.ts';
import { describeSpace } from '../tune/space.ts';
import { trialsJson, trialsTable } from '../tune/table.ts';
import { fileFormat, intArg } from './flags.ts';

/** Parser of --holdout-fraction: a number in (0, 1). */
const fractionArg = (v: string): number => {
  const x = Number(v);
  if (v.trim() === '' || !(x > 0 && x < 1)) throw new InvalidArgumentError(`must be a number in (0, 1), got "${v}".`);
  return x;
};

/** The flags of `tune` that stand for config keys (`key=value`). */
function tuneFlags(o: { input?: string; format?: string; limit?: number }): string[] {
  const extra: string[] = [];
  if (o.input) extra.push('source.kind="file"', `source.path=${JSON.stringify(resolve(o.input))}`);
  if (o.format) extra.push(`source.format=${JSON.stringify(o.format)}`);
  if (o.limit !== undefined) extra.push(`source.limit=${o.limit}`);
  return extra;
}

const HELP = [
  '',
  'Each trial trains a fresh model in this process, as `train` would, on the first rows of the file',
  '(file order: a click log is written in time order) and scores holdout AUC on the rows after them,',
  'in --folds rolling-origin folds of --holdout-fraction of the rows each (defaults 2 and 0.2: train on',
  'the first 60%, score the next 20%; train on the first 80%, score the last 20%); its score is the',
  'mean. Trial 1 is the base config (--config, --set, defaults); half of the rest sample the space at',
  'random, the other half climb from the best so far (its one-setting changes, moving on at the first',
  'that scores better). Same file, config and --seed: same trials. The space (family: wide = a linear',
  'model, fm = wide + the factorization-machine term, deep = wide & deep, deepfm = deep + FM; the',
  'linear weights take the embedding lr and weight decay):',
  ...describeSpace().map((l) => `  ${l}`),
  'Batch sizes giving under 4 steps a pass over the first fold are left out; FM families too when',
  'schema.dims gives slots their own dims. The rows are held in memory: use --limit on a large file.',
  'Output: the best config on stdout (or --out), the table of trials on stderr; --json prints',
  '{best, config, trials, rows, folds, bad} on stdout instead. Then:',
  '  lionctr train --config tuned.json --input FILE --export-dir DIR',
].join('\n');

/** Adds `tune` to the program. */
export function addTuneCommand(program: Command): void {
  withConfigOptions(
    program
      .command('tune')
      .description(
        'search model family, embedding dim, learning rates, weight decay, batch size and passes on a ' +
          'time-ordered holdout split of a file; print the best config for --config and a table of trials',
      )
      .requiredOption('--input <file>', 'the click log to tune on')
      .addOption(fileFormat())
      .option('--trials <n>', 'trial budget (trials at most)', intArg('--trials', 1), 20)
      .option('--seed <n>', 'seed of the search', intArg('--seed'), 1)
      .option('--holdout-fraction <x>', 'fraction of the rows each fold scores, in (0, 1)', fractionArg, 0.2)
      .option(
        '--folds <n>',
        'rolling-origin folds: a trial scores the mean holdout AUC over them',
        intArg('--folds', 1),
        2,
      )
      .option('--limit <n>', 'use the first n good rows (after source.skip; source.limit)', intArg('--limit', 1))
      .option('--out <file>', 'write the best config there (JSON) instead of stdout')
      .option('--keep-source', 'keep source.kind/path/skip/limit of this run in the written config')
      .option('--json', 'print {best, config, trials, rows, folds, bad} as one JSON object on stdout')
      .addHelpText('after', HELP),
  ).action(async (o) => {
    try {
      const flags = tuneFlags(o);
      const { config: cfg, origins } = loadCommandConfig(o, flags);
      if (cfg.source.kind !== 'file') throw new LionctrError('LIONCTR_BAD_CONFIG', 'tune reads a file: give --input');
      checkInput(cfg);
      const r = await runTune({
        cfg,
        origins,
        configOf: (over) => loadCommandConfig(o, [...flags, ...over]).config,
        trials: o.trials,
        seed: o.seed,
        holdoutFraction: o.holdoutFraction,
        folds: o.folds,
        keepSource: !!o.keepSource,
        out: process.stderr,
      });
      const text = `${JSON.stringify(r.config, null, 2)}\n`;
      if (o.out) writeFileSync(o.out, text);
      if (o.json) {
        const { best, config, trials, rows, folds, bad } = r;
        const [bestRow] = trialsJson([best]);
        process.stdout.write(
          `${JSON.stringify({ best: bestRow, config, trials: trialsJson(trials), rows, folds, bad })}\n`,
        );
        return;
      }
      process.stderr.write(`${trialsTable(r.trials, r.best.index)}\n`);
      const auc = r.best.figures?.auc.toFixed(4);
      process.stderr.write(
        `lionctr tune: best trial #${r.best.index + 1} (holdout AUC ${auc})` +
          `${o.out ? `; config written to ${o.out}` : ''}\n`,
      );
      if (!o.out) process.stdout.write(text);
    } catch (e) {
      fatal(e);
    }
  });
}
