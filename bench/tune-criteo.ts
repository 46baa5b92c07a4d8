/**
 * Holdout AUC of `lionctr tune` from the defaults against the hand-tuned config and a tuned
 * scikit-learn logistic regression, in the same run: on the Criteo sample (tune on a
 * time-ordered split of rows 1-8,000 only, train rows 1-8,000 with the best config, evaluate
 * rows 8,001-9,999) and on an Avazu-like log nobody tuned for (test/helpers/click-log.ts:
 * `schema infer` -> `tune` -> `train` on the first 80%, evaluate the last 20%). The logistic
 * regression (bench/tune-lr.py) tunes C on the same split lionctr tune scores (the last fold)
 * and refits on the whole training part. Each lionctr step is the CLI, as a user runs it.
 *
 *   npx tsx bench/tune-criteo.ts [--trials 40] [--seed 1] [--folds 2] [--avazu-rows 20000] [--no-avazu]
 *     [--python PATH]   (default: LIONCTR_PYTHON, else /work/main/.venv-py or ./.venv-py; skipped when none)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { avazuLikeLines } from '../test/helpers/click-log.ts';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '40' },
    seed: { type: 'string', default: '1' },
    folds: { type: 'string', default: '2' },
    'avazu-rows': { type: 'string', default: '20000' },
    'no-avazu': { type: 'boolean' },
    python: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log('usage: npx tsx bench/tune-criteo.ts [--trials 40] [--seed 1] [--folds 2] [--avazu-rows N] [--no-avazu]');
  process.exit(0);
}
const CRITEO = resolve('../shared/data/criteo-10k/criteo_10k.tsv');
const dir = mkdtempSync(join(tmpdir(), 'lionctr-bench-tune-'));
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const python = [values.python, process.env.LIONCTR_PYTHON, '/work/main/.venv-py/bin/python', '.venv-py/bin/python']
  .filter((p): p is string => !!p)
  .find((p) => existsSync(p));

/** Runs `lionctr ...`; stdout (stderr passed through when `loud`). */
const cli = (args: string[], loud = false): string =>
  execFileSync('node', ['bin/lionctr.mjs', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', loud ? 'inherit' : 'pipe'],
  });

interface Figures {
  auc: number;
  logloss: number;
  examples: number;
}

/** Trains rows 1..n of `input` with `args`, evaluates the rows after them. */
function trainEval(name: string, input: string, n: number, args: string[]): Figures {
  const exp = join(dir, `exp-${name}`);
  cli(['train', '--input', input, ...args, '--limit', `${n}`, '--export-dir', exp, '--set', 'log.level=warn']);
  return JSON.parse(cli(['eval', '--model', exp, '--input', input, ...args, '--skip', `${n}`, '--json']));
}

/** Tunes on rows 1..n of `input` (base: `args`); the best config's path and the tune summary. */
function tune(name: string, input: string, n: number, args: string[]) {
  const out = join(dir, `${name}-tuned.json`);
  const t0 = performance.now();
  const flags = ['--trials', values.trials, '--seed', values.seed, '--folds', values.folds];
  const res = JSON.parse(cli(['tune', '--input', input, ...args, '--limit', `${n}`, ...flags, '--out', out, '--json']));
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `${name}: tune ${res.trials.length} trials in ${seconds.toFixed(0)} s (load ${load()}); best #${res.best.trial} ` +
      `(${res.best.kind}) fold AUCs ${res.best.foldAucs.map((x: number) => x.toFixed(4)).join(', ')}; ` +
      `config ${JSON.stringify(res.config)}`,
  );
  return out;
}

/** The tuned logistic regression (bench/tune-lr.py) on the same split; null without Python. */
function sklearn(spec: object): (Figures & { C: number }) | null {
  if (!python) return null;
  const text = execFileSync(python, ['bench/tune-lr.py', JSON.stringify(spec)], { encoding: 'utf8' });
  return JSON.parse(text);
}

/** Prints the rows of one data set with AUC gaps to the logistic regression. */
function table(name: string, rows: [string, Figures | null][]) {
  const lr = rows.find(([n]) => n.startsWith('sklearn'))?.[1];
  console.log(`\n${name}                                  holdout AUC  logloss  vs sklearn LR`);
  for (const [n, f] of rows) {
    if (!f) {
      console.log(`  ${n.padEnd(38)} skipped (no Python with scikit-learn: LIONCTR_PYTHON)`);
      continue;
    }
    const gap = lr ? `${f.auc - lr.auc >= 0 ? '+' : ''}${(f.auc - lr.auc).toFixed(4)}` : '-';
    console.log(`  ${n.padEnd(38)} ${f.auc.toFixed(4)}       ${f.logloss.toFixed(4)}   ${gap}`);
  }
}

console.log(`load average ${load()}; python ${python ?? 'none'}; trials ${values.trials}, seed ${values.seed}`);
const holdoutFraction = 0.2;
try {
  if (existsSync(CRITEO)) {
    const fmt = ['--format', 'criteo'];
    const tuned = tune('criteo', CRITEO, 8000, fmt);
    const slots = JSON.parse(cli(['schema', 'infer', '--input', CRITEO, ...fmt])).schema;
    table('Criteo sample, train rows 1-8000, eval 8001-9999', [
      ['lionctr tune (from the defaults)', trainEval('tuned', CRITEO, 8000, [...fmt, '--config', tuned])],
      ['hand-tuned config/criteo.json', trainEval('hand', CRITEO, 8000, [...fmt, '--config', 'config/criteo.json'])],
      ['defaults', trainEval('defaults', CRITEO, 8000, fmt)],
      [
        'sklearn LR (C tuned on the last fold)',
        sklearn({ path: CRITEO, format: 'criteo', ...slots, tune_rows: 8000, holdout_fraction: holdoutFraction }),
      ],
    ]);
  } else console.log(`no ${CRITEO}: Criteo sample skipped`);
  if (!values['no-avazu']) {
    const n = Number(values['avazu-rows']);
    const input = join(dir, 'avazu-like.csv');
    writeFileSync(input, `${avazuLikeLines(n, 11).join('\n')}\n`);
    const inferred = join(dir, 'avazu-like.json');
    writeFileSync(inferred, cli(['schema', 'infer', '--input', input]));
    const cfg = JSON.parse(readFileSync(inferred, 'utf8'));
    const trainRows = Math.round(n * 0.8);
    const tuned = tune('avazu-like', input, trainRows, ['--config', inferred]);
    table(`Avazu-like log (${n} rows), train first ${trainRows}, eval the rest`, [
      [
        'schema infer -> tune -> train',
        trainEval('a-tuned', input, trainRows, ['--config', inferred, '--config', tuned]),
      ],
      ['schema infer -> train (defaults)', trainEval('a-defaults', input, trainRows, ['--config', inferred])],
      [
        'sklearn LR (C tuned on the last fold)',
        sklearn({
          path: input,
          format: 'csv',
          label: cfg.schema.label,
          numeric: cfg.schema.numeric,
          categorical: cfg.schema.categorical,
          tune_rows: trainRows,
          holdout_fraction: holdoutFraction,
        }),
      ],
    ]);
  }
  console.log(`\nload average at the end ${load()}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
