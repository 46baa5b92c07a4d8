/**
 * The trials of `lionctr tune` (src/cli/tune/trial.ts, rows.ts) on a generated Avazu-like CSV:
 * the cached rows replay in the batches a file source yields; each trial frees its tensors
 * (tf.memory() the same before and after, for every family); a trial is deterministic.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featureSchemaOf, openConfiguredSource } from '../../../src/cli/common.ts';
import { readTuneRows, replaySource, type TuneRows } from '../../../src/cli/tune/rows.ts';
import { overridesOf, pointOf } from '../../../src/cli/tune/space.ts';
import { runTrial } from '../../../src/cli/tune/trial.ts';
import { loadConfig } from '../../../src/config/schema.ts';
import { selectBackend } from '../../../src/model/backend.ts';
import { AVAZU_CATEGORICAL, AVAZU_NUMERIC, avazuLikeLines } from '../../helpers/click-log.ts';

const dir = mkdtempSync(join(tmpdir(), 'lionctr-tune-trial-'));
const path = join(dir, 'clicks.csv');
const SETS = [
  `source.path=${JSON.stringify(path)}`,
  'source.kind="file"',
  'source.format="csv"',
  'schema.label="click"',
  'schema.time.column="hour"',
  'schema.time.format="YYMMDDHH"',
  'schema.ignore=["id"]',
  `schema.numeric=${JSON.stringify(AVAZU_NUMERIC)}`,
  `schema.categorical=${JSON.stringify(AVAZU_CATEGORICAL)}`,
];
const cfgOf = (extra: string[] = []) => loadConfig([], [...SETS, ...extra]);
const quiet = pino({ level: 'silent' });
let rows: TuneRows;
const last = { trainRows: 2000, end: 2500 };

beforeAll(async () => {
  writeFileSync(path, `${avazuLikeLines(2500, 3).join('\n')}\n`);
  await selectBackend('auto');
  const cfg = cfgOf();
  rows = await readTuneRows(cfg, featureSchemaOf(cfg), 0.2, 2);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tune rows', () => {
  it('split in file order into rolling-origin folds: each scores a fifth, the last one the last fifth', () => {
    expect(rows.rows).toBe(2500);
    expect(rows.folds).toEqual([
      { trainRows: 1500, end: 2000 },
      { trainRows: 2000, end: 2500 },
    ]);
  });

  it('replay in the batches, rows and order a file source of that batch size yields', async () => {
    const cfg = cfgOf(['source.limit=2000']);
    const file: number[][] = [];
    for await (const rb of openConfiguredSource(cfg, featureSchemaOf(cfg)).batches({ batchSize: 256 }))
      file.push([...(rb.getChild('label')?.toArray() ?? [])]);
    const replay: number[][] = [];
    for await (const rb of replaySource(rows, 0, 2000).batches({ batchSize: 256 }))
      replay.push([...(rb.getChild('label')?.toArray() ?? [])]);
    expect(replay.map((b) => b.length)).toEqual(file.map((b) => b.length));
    expect(replay).toEqual(file);
  });
});

describe('tune trial', () => {
  it('frees every tensor it makes, whatever the family', async () => {
    const base = pointOf(cfgOf());
    for (const family of ['wide', 'fm', 'deep', 'deepfm']) {
      const over = overridesOf({ ...base, 'model.family': family, 'model.hidden': [16], 'schema.embeddingDim': 4 });
      const before = tf.memory().numTensors;
      const f = await runTrial(cfgOf([...over, 'train.batchSize=128', 'source.epochs=1']), rows, last, quiet);
      expect(tf.memory().numTensors, family).toBe(before);
      expect(f.examples).toBe(500);
      expect(f.trained).toBe(2000);
      expect(f.auc, family).toBeGreaterThan(0.55); // it trained: 1 pass over 2,000 rows
    }
  });

  it('is deterministic: the same config gives the same holdout figures', async () => {
    const cfg = cfgOf(['train.batchSize=128', 'model.hidden=[16]', 'schema.embeddingDim=4']);
    const [a, b] = [await runTrial(cfg, rows, last, quiet), await runTrial(cfg, rows, last, quiet)];
    expect(a.auc).toBe(b.auc);
    expect(a.logloss).toBe(b.logloss);
  });
});
