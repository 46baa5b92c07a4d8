/**
 * Negative downsampling (train.negativeRate), as a user runs it: a synthetic click stream's
 * negatives kept with probability r = 0.25 (a seeded rule) make the training log; `lionctr train`
 * with and without `train.negativeRate=0.25`, then `lionctr eval` on a holdout that was not
 * downsampled. With the setting the export records r and eval recalibrates, q / (q + (1 - q) / r):
 * calibration (mean prediction / CTR) within 0.15 of 1; without it the model predicts the
 * sampled log's CTR (~3.6x the holdout's) and calibration is far off. AUC is the same (the
 * recalibration is monotone). Sample weights (schema.weight) take the other road: the same log
 * with weight 1/r on each negative trains a model calibrated on the full scale.
 *
 * The progressive figures of the training run are on the corrected scale too (predictions
 * recalibrated, non-clicks weighted 1/r, or by their schema.weight): their CTR estimates the
 * un-downsampled stream's (within 3% relative; the sampled log's is ~3.6x) and their calibration
 * is within 0.1 of 1 (the window covers the whole run, early steps included). `eval
 * --negative-rate r` on a holdout downsampled the same way (each non-click counts 1/r) reports
 * figures close to those on the full holdout (AUC 0.01, calibration 0.05, logloss 5% relative:
 * the kept non-clicks are one random draw; unweighted, calibration is below 0.5), and exactly
 * those of the same file weighted by schema.weight.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BAYES_P_COLUMN, EVENT_TIME_COLUMN, OFFSET_COLUMN, PARTITION_COLUMN } from '../../src/features/columns.ts';
import { createSyntheticSource } from '../../src/ingest/synthetic-source.ts';
import { mulberry32 } from '../helpers/prng.ts';

const R = 0.25;
const TRAIN = 80_000,
  HOLDOUT = 20_000;
const dir = mkdtempSync(join(tmpdir(), 'lionctr-negrate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** JSON lines of the synthetic stream (seed 4): the first TRAIN examples downsampled, then HOLDOUT as they are. */
async function writeLogs() {
  const keep = mulberry32(2024);
  const train: string[] = [],
    weighted: string[] = [],
    holdout: string[] = [],
    holdoutDown: string[] = [],
    holdoutDownWeighted: string[] = [];
  let trainClicks = 0;
  const skip = new Set([EVENT_TIME_COLUMN, PARTITION_COLUMN, OFFSET_COLUMN, BAYES_P_COLUMN, 'label']);
  let i = 0;
  for await (const rb of createSyntheticSource({ seed: 4, limit: TRAIN + HOLDOUT }).batches({ batchSize: 4096 })) {
    for (const row of rb) {
      const o = row.toJSON() as Record<string, unknown>;
      const features = Object.fromEntries(Object.entries(o).filter(([k]) => !skip.has(k)));
      const label = Number(o.label);
      if (i++ >= TRAIN) {
        holdout.push(JSON.stringify({ label, features }));
        if (label === 1 || keep() < R) {
          holdoutDown.push(JSON.stringify({ label, features }));
          holdoutDownWeighted.push(JSON.stringify({ label, w: label === 1 ? 1 : 1 / R, features }));
        }
        continue;
      }
      trainClicks += label;
      if (label === 1 || keep() < R) {
        train.push(JSON.stringify({ label, features }));
        weighted.push(JSON.stringify({ label, w: label === 1 ? 1 : 1 / R, features }));
      }
    }
  }
  const files = { train, weighted, holdout, holdoutDown, holdoutDownWeighted };
  const out = Object.fromEntries(
    Object.entries(files).map(([k, rows]) => {
      const path = join(dir, `${k}.jsonl`);
      writeFileSync(path, `${rows.join('\n')}\n`);
      return [k, path];
    }),
  ) as Record<keyof typeof files, string>;
  return { ...out, kept: train.length, trueCtr: trainClicks / TRAIN };
}

const cli = (...args: string[]) =>
  execFileSync('node', ['bin/lionctr.mjs', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LIONCTR_BACKEND: 'wasm' },
  });

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

const SETS = ['train.batchSize=512', 'model.hidden=[32]', 'schema.embeddingDim=8', 'export.intervalSeconds=0'];

/** Trains on `input` with `extra` sets, evaluates on the holdout: eval's JSON figures. */
function trainEval(name: string, input: string, holdout: string, extra: string[]) {
  const exportDir = join(dir, name);
  const sets = [...SETS, ...extra].flatMap((s) => ['--set', s]);
  const summary = JSON.parse(cli('train', '--input', input, '--format', 'jsonl', '--export-dir', exportDir, ...sets));
  return {
    eval: JSON.parse(cli('eval', '--model', exportDir, '--input', holdout, '--format', 'jsonl', '--json')),
    progressive: summary.progressive as { ctr: number; calibration: number; window: number; auc: number },
    exportDir,
  };
}

describe('train.negativeRate: a log with downsampled negatives', () => {
  it('recalibrated predictions are calibrated on a holdout that was not downsampled; without r far off', async () => {
    const logs = await writeLogs();
    const plain = trainEval('plain', logs.train, logs.holdout, []);
    const rated = trainEval('rated', logs.train, logs.holdout, [`train.negativeRate=${R}`]);
    const weighted = trainEval('weighted', logs.weighted, logs.holdout, ['schema.weight=w']);
    const manifest = (d: string) => {
      const v = readFileSync(join(d, 'LATEST'), 'utf8').trim();
      return JSON.parse(readFileSync(join(d, v, 'manifest.json'), 'utf8'));
    };
    const fig = (e: { auc: number; calibration: number; logloss: number }) =>
      `AUC ${e.auc.toFixed(4)} calibration ${e.calibration.toFixed(3)} logloss ${e.logloss.toFixed(4)}`;
    console.log(
      `negative downsampling r=${R}: ${logs.kept} of ${TRAIN} training rows kept; holdout ${HOLDOUT}\n` +
        `  without train.negativeRate: ${fig(plain.eval)}\n` +
        `  with train.negativeRate=${R}: ${fig(rated.eval)}\n` +
        `  negatives weighted 1/r (schema.weight): ${fig(weighted.eval)}`,
    );
    expect(manifest(rated.exportDir).featurization.output.negative_rate).toBe(R);
    expect(manifest(plain.exportDir).featurization.output.negative_rate).toBe(1);
    expect(Math.abs(rated.eval.calibration - 1)).toBeLessThan(0.15);
    expect(plain.eval.calibration).toBeGreaterThan(2);
    expect(Math.abs(weighted.eval.calibration - 1)).toBeLessThan(0.25);
    expect(Math.abs(rated.eval.auc - plain.eval.auc)).toBeLessThan(1e-3);
    expect(rated.eval.logloss).toBeLessThan(plain.eval.logloss);

    // progressive figures on the corrected scale: the window holds the whole run
    const prog = (x: typeof plain) =>
      `CTR ${x.progressive.ctr.toFixed(4)} calibration ${x.progressive.calibration.toFixed(3)} ` +
      `AUC ${x.progressive.auc.toFixed(4)} (window ${x.progressive.window})`;
    console.log(
      `progressive figures, true CTR of the training stream ${logs.trueCtr.toFixed(4)}:\n` +
        `  without train.negativeRate: ${prog(plain)}\n  with train.negativeRate=${R}: ${prog(rated)}\n` +
        `  negatives weighted 1/r: ${prog(weighted)}`,
    );
    for (const x of [rated, weighted]) {
      expect(x.progressive.window).toBe(logs.kept);
      expect(rel(x.progressive.ctr, logs.trueCtr)).toBeLessThan(0.03);
      expect(Math.abs(x.progressive.calibration - 1)).toBeLessThan(0.1);
    }
    expect(plain.progressive.ctr / logs.trueCtr).toBeGreaterThan(2);

    // eval on a downsampled holdout: non-clicks count 1/r (--negative-rate), or by schema.weight
    const evalOn = (input: string, ...extra: string[]) =>
      JSON.parse(cli('eval', '--model', rated.exportDir, '--input', input, '--format', 'jsonl', '--json', ...extra));
    const down = evalOn(logs.holdoutDown, '--negative-rate', String(R));
    const byWeight = evalOn(logs.holdoutDownWeighted, '--set', 'schema.weight=w');
    const unweighted = evalOn(logs.holdoutDown);
    console.log(
      `eval on the holdout downsampled at r=${R}: with --negative-rate ${R}: ${fig(down)}; without: ${fig(unweighted)}`,
    );
    expect(unweighted.calibration).toBeLessThan(0.5);
    expect(Math.abs(down.auc - rated.eval.auc)).toBeLessThan(0.01);
    expect(Math.abs(down.calibration - rated.eval.calibration)).toBeLessThan(0.05);
    expect(rel(down.logloss, rated.eval.logloss)).toBeLessThan(0.05);
    expect(down.examples).toBeLessThan(HOLDOUT / 2);
    for (const k of ['auc', 'logloss', 'ne', 'calibration'] as const)
      expect(rel(byWeight[k], down[k]), k).toBeLessThan(1e-9);
  }, 600_000);
});
