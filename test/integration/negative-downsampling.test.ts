/**
 * Negative downsampling (train.negativeRate), as a user runs it: a synthetic click stream's
 * negatives kept with probability r = 0.25 (a seeded rule) make the training log; `lionctr train`
 * with and without `train.negativeRate=0.25`, then `lionctr eval` on a holdout that was not
 * downsampled. With the setting the export records r and eval recalibrates, q / (q + (1 - q) / r):
 * calibration (mean prediction / CTR) within 0.15 of 1; without it the model predicts the
 * sampled log's CTR (~3.6x the holdout's) and calibration is far off. AUC is the same (the
 * recalibration is monotone). Sample weights (schema.weight) take the other road: the same log
 * with weight 1/r on each negative trains a model calibrated on the full scale.
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
async function writeLogs(): Promise<{ train: string; weighted: string; holdout: string; kept: number }> {
  const keep = mulberry32(2024);
  const train: string[] = [],
    weighted: string[] = [],
    holdout: string[] = [];
  const skip = new Set([EVENT_TIME_COLUMN, PARTITION_COLUMN, OFFSET_COLUMN, BAYES_P_COLUMN, 'label']);
  let i = 0;
  for await (const rb of createSyntheticSource({ seed: 4, limit: TRAIN + HOLDOUT }).batches({ batchSize: 4096 })) {
    for (const row of rb) {
      const o = row.toJSON() as Record<string, unknown>;
      const features = Object.fromEntries(Object.entries(o).filter(([k]) => !skip.has(k)));
      const label = Number(o.label);
      if (i++ >= TRAIN) holdout.push(JSON.stringify({ label, features }));
      else if (label === 1 || keep() < R) {
        train.push(JSON.stringify({ label, features }));
        weighted.push(JSON.stringify({ label, w: label === 1 ? 1 : 1 / R, features }));
      }
    }
  }
  const out = { train: join(dir, 'train.jsonl'), weighted: join(dir, 'weighted.jsonl'), holdout: join(dir, 'h.jsonl') };
  writeFileSync(out.train, `${train.join('\n')}\n`);
  writeFileSync(out.weighted, `${weighted.join('\n')}\n`);
  writeFileSync(out.holdout, `${holdout.join('\n')}\n`);
  return { ...out, kept: train.length };
}

const cli = (...args: string[]) =>
  execFileSync('node', ['bin/lionctr.mjs', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LIONCTR_BACKEND: 'wasm' },
  });

const SETS = ['train.batchSize=512', 'model.hidden=[32]', 'schema.embeddingDim=8', 'export.intervalSeconds=0'];

/** Trains on `input` with `extra` sets, evaluates on the holdout: eval's JSON figures. */
function trainEval(name: string, input: string, holdout: string, extra: string[]) {
  const exportDir = join(dir, name);
  const sets = [...SETS, ...extra].flatMap((s) => ['--set', s]);
  cli('train', '--input', input, '--format', 'jsonl', '--export-dir', exportDir, ...sets);
  return {
    eval: JSON.parse(cli('eval', '--model', exportDir, '--input', holdout, '--format', 'jsonl', '--json')),
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
  }, 600_000);
});
