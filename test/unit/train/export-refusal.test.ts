/**
 * writeExport refuses a model with NaN or infinite weights before it writes anything (issue
 * 11): LIONCTR_DIVERGED naming the tower variable or table and how many weights; no version
 * directory, no temp directory, LATEST untouched.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeExport } from '../../../src/train/export-writer.ts';
import { tinyTrainedModel } from '../../helpers/tiny-model.ts';

const meta = { step: 1, examples: 1, sourceOffsets: {}, watermarkMs: null, metrics: {} };

describe('writeExport and non-finite weights', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('refuses NaN in the tower and +-Infinity in a table, naming each with its count; writes nothing', async () => {
    const t = await tinyTrainedModel(2, 256);
    const dir = await mkdtemp(join(tmpdir(), 'lionctr-refuse-'));
    dirs.push(dir);
    const root = join(dir, 'exports');
    const good = (await writeExport(root, t.model, meta)).version;
    const listing = await readdir(root);

    const v = t.model.tower.vars[0];
    const saved = v.dataSync().slice();
    const poisoned = saved.slice();
    poisoned[3] = Number.NaN;
    tf.tidy(() => v.assign(tf.tensor(poisoned, v.shape)));
    const table = t.model.tables[1];
    table.rows.data[table.rows.weightsAt(2) + 1] = Number.POSITIVE_INFINITY;
    table.rows.data[table.rows.weightsAt(0)] = Number.NEGATIVE_INFINITY;
    const fresh = join(dir, 'never');
    for (const r of [root, fresh]) {
      await expect(writeExport(r, t.model, meta)).rejects.toMatchObject({
        code: 'LIONCTR_DIVERGED',
        message: expect.stringMatching(
          new RegExp(
            `NaN or infinite weights in dense ${v.name} \\(1 of ${saved.length}\\), ` +
              `embeddings ${table.slot} \\(2 of ${table.size * table.width}\\)`,
          ),
        ),
      });
    }
    expect(existsSync(fresh)).toBe(false);
    expect(await readdir(root)).toEqual(listing);
    expect((await readFile(join(root, 'LATEST'), 'utf8')).trim()).toBe(good);
    t.model.dispose();
  });
});
