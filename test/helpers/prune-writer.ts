/**
 * A trainer's export loop for the pruning race test (test/integration/prune-race.test.ts):
 * writes full exports of a small model into an exports root back to back, pruning with the
 * given policy, for a number of seconds; prints `wrote <version>` per export and `done`.
 *
 *   node --import tsx test/helpers/prune-writer.ts <root> <keep> <graceMs> <seconds> [rowsPerSlot]
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { fileURLToPath } from 'node:url';
import { criteoSlots } from '../../src/features/schema.ts';
import { CtrModel } from '../../src/model/ctr-model.ts';
import { writeExport } from '../../src/train/export-writer.ts';

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [root, keep, graceMs, seconds, rows] = process.argv.slice(2);
  await tf.setBackend('cpu');
  const model = new CtrModel({ ...criteoSlots(), embeddingDim: 4 }, { hidden: [16], initStd: 0.01, seed: 1 });
  for (const t of model.tables) for (let i = 0; i < Number(rows ?? 2000); i++) t.findOrAdmit(i * 7919, i);
  const end = Date.now() + 1000 * Number(seconds);
  for (let n = 1; Date.now() < end; n++) {
    for (const t of model.tables) t.rows.data[0] += 1e-3;
    const meta = { step: n, examples: n, sourceOffsets: {}, watermarkMs: null, metrics: {} };
    const { version } = await writeExport(root, model, meta, { keep: Number(keep), graceMs: Number(graceMs) });
    process.stdout.write(`wrote ${version}\n`);
  }
  process.stdout.write('done\n');
}
