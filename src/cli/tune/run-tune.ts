/**
 * The work of `lionctr tune` (src/cli/commands/tune.ts parses the flags): read the file's rows
 * once (rows.ts), search the space (space.ts, search.ts) with one in-process trial per point
 * (trial.ts) and a progress bar (progress.ts), and return the trials and the best config
 * (best-config.ts).
 */
import type { Logger } from 'pino';
import type { LionctrConfig } from '../../config/schema.ts';
import { LionctrError } from '../../errors.ts';
import { createLogger } from '../../log.ts';
import { selectBackend } from '../../model/backend.ts';
import { featureSchemaOf } from '../common.ts';
import { bestConfig } from './best-config.ts';
import { type BarOutput, ProgressBar } from './progress.ts';
import { type Fold, readTuneRows } from './rows.ts';
import { bestOf, search } from './search.ts';
import { describeSpace, fitSpace, overridesOf, type Point, pointOf } from './space.ts';
import type { TrialRow } from './table.ts';
import { combineFolds, runTrial, type TrialFigures } from './trial.ts';

/** What a tuning run is given. */
export interface TuneOptions {
  /** The tuning run's config (base settings, source.path/format/skip/limit of the rows). */
  cfg: LionctrConfig;
  /** Where each non-default key of `cfg` came from (loader), for the written config. */
  origins: ReadonlyMap<string, string>;
  /** The config of a point: `cfg` with the point's overrides, loaded and validated as `train` would. */
  configOf: (overrides: string[]) => LionctrConfig;
  trials: number;
  seed: number;
  holdoutFraction: number;
  /** Rolling-origin folds (rows.ts); a trial's score is its mean holdout AUC over them. */
  folds: number;
  /** Keep source.kind/path/skip/limit in the written config. */
  keepSource: boolean;
  /** Progress bar and notes (process.stderr). */
  out: BarOutput;
}

/** What a tuning run found. */
export interface TuneResult {
  trials: TrialRow[];
  best: TrialRow;
  /** The config to write: `train --config` takes it. */
  config: Record<string, unknown>;
  rows: number;
  /** The folds: train on rows [0, trainRows), score [trainRows, end). */
  folds: Fold[];
  bad: Record<string, number>;
}

/** A logger for the trials: the config's level, but no quieter-than-warn lines (a pass start per trial). */
function trialLogger(cfg: LionctrConfig): Logger {
  const loud = ['debug', 'trace'].includes(cfg.log.level);
  return createLogger(loud ? cfg.log.level : ['fatal', 'error'].includes(cfg.log.level) ? cfg.log.level : 'warn');
}

/**
 * Runs the search (see the module doc).
 * @throws LionctrError LIONCTR_BAD_INPUT when the file has too few rows or no trial could be
 *   scored (a holdout without clicks, or without non-clicks); LIONCTR_BAD_CONFIG on a bad setting.
 */
export async function runTune(o: TuneOptions): Promise<TuneResult> {
  const logger = trialLogger(o.cfg);
  await selectBackend(o.cfg.backend, (m) => logger.debug(m));
  const rows = await readTuneRows(o.cfg, featureSchemaOf(o.cfg), o.holdoutFraction, o.folds);
  const { space, notes } = fitSpace(o.cfg, rows.folds[0].trainRows);
  const folds = rows.folds.map((f) => `rows ${f.trainRows + 1}-${f.end} after ${f.trainRows}`).join(', ');
  o.out.write(
    `lionctr tune: ${rows.rows} rows of ${o.cfg.source.path} in file order; each trial scores holdout AUC on ` +
      `${folds} (mean); up to ${o.trials} trials, seed ${o.seed}\n`,
  );
  for (const n of notes) o.out.write(`lionctr tune: ${n}\n`);
  logger.debug({ space: describeSpace(space) }, 'search space');
  const bar = new ProgressBar(o.out);
  const done: TrialRow[] = [];
  const t0 = performance.now();
  const evaluate = async (p: Point, index: number): Promise<number> => {
    const row: TrialRow = { index, point: p, kind: 'base', score: NaN };
    try {
      const cfg = o.configOf(index === 0 ? [] : overridesOf(p));
      const fs: TrialFigures[] = [];
      for (const fold of rows.folds) fs.push(await runTrial(cfg, rows, fold, logger));
      row.figures = combineFolds(fs);
      row.score = row.figures.auc;
    } catch (e) {
      if (!(e instanceof LionctrError) || e.code !== 'LIONCTR_DIVERGED') throw e;
      row.error = e.code;
    }
    done.push(row);
    const best = bestOf(done);
    bar.update({
      done: done.length,
      total: o.trials,
      last: row.score,
      best: best?.score ?? NaN,
      bestIndex: best?.index ?? 0,
      seconds: (performance.now() - t0) / 1000,
    });
    return row.score;
  };
  let trials: Awaited<ReturnType<typeof search>>;
  try {
    trials = await search({ space, base: pointOf(o.cfg, space), trials: o.trials, seed: o.seed, evaluate });
  } finally {
    bar.end();
  }
  const rowsOut = trials.map((t, i) => ({ ...done[i], kind: t.kind }));
  const best = bestOf(rowsOut) as TrialRow | undefined;
  if (!best) {
    const msg = 'no trial could be scored: the holdout needs clicks and non-clicks (or every trial diverged)';
    throw new LionctrError('LIONCTR_BAD_INPUT', msg, { where: o.cfg.source.path });
  }
  // the base trial's point holds the base config's own values: written out all the same
  const config = bestConfig(o.cfg, o.origins, overridesOf(best.point), o.keepSource);
  return { trials: rowsOut, best, config, rows: rows.rows, folds: rows.folds, bad: rows.bad };
}
