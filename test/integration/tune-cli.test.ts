/**
 * `lionctr tune` as a user runs it, on a slice of the Criteo sample (rows 1-3,000, 5 trials):
 * a progress line per trial on stderr, the trials within the budget, the best config written
 * without the run's input; that config trains with `lionctr train` to a better holdout AUC on
 * rows 3,001-4,000 than the plain defaults, and a trial's figure is what `train` + `eval` get
 * on the same rows (the in-process trial is the real training).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CRITEO_TSV, haveShared } from '../helpers/shared.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'lionctr-tune-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) =>
  run('node', ['bin/lionctr.mjs', ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 24 });

/** Trains rows 1..trainRows with `args`, evaluates rows trainRows+1..trainRows+evalRows; the eval JSON. */
async function trainEval(name: string, trainRows: number, evalRows: number, args: string[]) {
  const exp = join(dir, name);
  const common = ['--input', CRITEO_TSV, '--format', 'criteo'];
  await cli('train', ...common, ...args, '--limit', `${trainRows}`, '--export-dir', exp, '--set', 'log.level=warn');
  const skip = ['--skip', `${trainRows}`, '--limit', `${evalRows}`];
  const { stdout } = await cli('eval', ...common, '--model', exp, ...skip, '--json');
  return JSON.parse(stdout) as { auc: number; examples: number };
}

describe.skipIf(!haveShared(CRITEO_TSV))('lionctr tune on the Criteo sample (rows 1-3,000)', () => {
  it('finds a config that train takes and that beats the defaults on the next 1,000 rows', async () => {
    const t0 = performance.now();
    const out = join(dir, 'tuned.json');
    const args = ['--input', CRITEO_TSV, '--format', 'criteo', '--limit', '3000', '--trials', '5', '--seed', '1'];
    const r = await cli('tune', ...args, '--out', out, '--json');
    const tuneSeconds = (performance.now() - t0) / 1000;
    const res = JSON.parse(r.stdout);
    expect(res.rows).toBe(3000);
    expect(res.folds).toEqual([
      { trainRows: 1800, end: 2400 },
      { trainRows: 2400, end: 3000 },
    ]);
    expect(res.trials.length).toBe(5);
    expect(res.trials[0].kind).toBe('base');
    // stderr is a pipe: one progress line per trial
    expect(r.stderr.match(/^tune \[[#.]+\] \d+\/5 /gm)).toHaveLength(5);
    const best = res.trials.reduce((a: { auc: number }, b: { auc: number }) => (b.auc > a.auc ? b : a));
    expect(res.best.trial).toBe(best.trial);
    const config = JSON.parse(readFileSync(out, 'utf8'));
    expect(config).toEqual(res.config);
    expect(config.source?.path).toBeUndefined();
    expect(config.source?.limit).toBeUndefined();
    expect(config.train.batchSize).toBe(best.settings['train.batchSize']);

    // the last: the last fold of the best trial, retrained by train and scored by eval (the trial's own figure)
    const [tuned, defaults, again] = await Promise.all([
      trainEval('tuned', 3000, 1000, ['--config', out]),
      trainEval('defaults', 3000, 1000, []),
      trainEval('fold', 2400, 600, ['--config', out]),
    ]);
    console.log(
      `tune (5 trials, ${tuneSeconds.toFixed(1)} s): best trial ${res.best.trial} fold AUCs ` +
        `${res.best.foldAucs.map((x: number) => x.toFixed(4)).join(', ')}; rows 3001-4000: tuned AUC ` +
        `${tuned.auc.toFixed(4)}, defaults ${defaults.auc.toFixed(4)}; retrained last fold ${again.auc.toFixed(4)}`,
    );
    expect(tuned.examples).toBe(1000);
    expect(tuned.auc).toBeGreaterThan(defaults.auc + 0.02);
    expect(again.auc).toBeCloseTo(res.best.foldAucs[1], 4);
    expect(tuneSeconds).toBeLessThan(60);
  }, 240_000);

  it('refuses a bad budget or split with exit 2, naming the flag', async () => {
    const bad = async (...args: string[]) =>
      cli('tune', '--input', CRITEO_TSV, '--format', 'criteo', ...args).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
    const a = await bad('--trials', '0');
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--trials must be an integer >= 1/);
    const b = await bad('--holdout-fraction', '0.5', '--folds', '2', '--limit', '100');
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--holdout-fraction x --folds must be in \(0, 1\)/);
  }, 60_000);
});
