/**
 * A writer process for the kill tests (test/integration/export-kill.test.ts): builds a small
 * model (rows admitted directly, no training), prints `ready`, waits for a line on stdin (so
 * that a test can start the next writer while the current one runs, and never has two
 * writing), then writes exports of one kind into an exports root in a loop, with the
 * project's writer, until it is killed; prints `begin` before and `wrote <version>` after
 * each export.
 *
 *   node --import tsx test/helpers/export-writer-loop.ts <root> <kind> [rowsPerSlot]
 *
 * Deleting a directory (pruning old versions) is slowed down here, as on a slow disk or with
 * a large version: `fs.promises.rm` of a directory prints `rm <name>` and then unlinks its
 * files one at a time, 2 ms apart, before removing the rest as the writer asked; so that a
 * test can aim kills at the middle of a deletion.
 *
 * Kinds (WRITER_KINDS): `full` = writeExport. Another kind (deltas) is one more entry of
 * `writers` below and of WRITER_KINDS.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { criteoSlots, type FeatureSchema } from '../../src/features/schema.ts';
import { CtrModel } from '../../src/model/ctr-model.ts';
import { writeExport } from '../../src/train/export-writer.ts';

/** The export kinds this writer knows. */
export const WRITER_KINDS = ['full'] as const;
export type WriterKind = (typeof WRITER_KINDS)[number];

/** A model of the Criteo slots (dim 4, tower [16]) with `rowsPerSlot` rows admitted in every table. */
async function writerModel(rowsPerSlot: number): Promise<CtrModel> {
  await tf.setBackend('cpu'); // the cpu backend alone: a writer starts faster without the others
  const schema: FeatureSchema = { ...criteoSlots(), embeddingDim: 4 };
  const model = new CtrModel(schema, { hidden: [16], initStd: 0.01, seed: 1 });
  for (const t of model.tables) for (let i = 0; i < rowsPerSlot; i++) t.findOrAdmit(i * 7919, i);
  return model;
}

/** One export of each kind; `n` counts the exports written by this process. */
const writers: Record<WriterKind, (root: string, model: CtrModel, n: number) => Promise<string>> = {
  full: async (root, model, n) => {
    const meta = { step: n, examples: n, sourceOffsets: { 'synthetic/0': n }, watermarkMs: null, metrics: {} };
    // no grace: the kill test aims kills at deletions, which a grace would put off for a minute
    return (await writeExport(root, model, meta, { keep: 3, graceMs: 0 })).version;
  },
};

/** Makes fs.promises.rm of a directory slow and announced (see the module doc). */
function slowDirectoryRemoval(): void {
  const rm = fsp.rm;
  const unlinkAll = async (dir: string): Promise<void> => {
    for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
      if (e.isDirectory()) await unlinkAll(join(dir, e.name));
      else {
        await fsp.unlink(join(dir, e.name));
        await new Promise((r) => setTimeout(r, 2));
      }
    }
  };
  fsp.rm = async (path, opts) => {
    const isDir = await fsp.stat(path).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (isDir && opts?.recursive) {
      process.stdout.write(`rm ${basename(String(path))}\n`);
      await unlinkAll(String(path));
    }
    return rm(path, opts);
  };
  syncBuiltinESMExports(); // the writer's `import { rm } from 'node:fs/promises'` sees it
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [root, kind, rows] = process.argv.slice(2);
  if (!(WRITER_KINDS as readonly string[]).includes(kind)) throw new Error(`unknown writer kind ${kind}`);
  slowDirectoryRemoval();
  const model = await writerModel(Number(rows ?? 2000));
  const write = writers[kind as WriterKind];
  process.stdout.write('ready\n');
  await new Promise((go) => process.stdin.once('data', go));
  for (let n = 1; ; n++) {
    // the model changes between exports, as a trainer's does
    for (const t of model.tables) t.rows.data[0] += 1e-3;
    process.stdout.write('begin\n');
    process.stdout.write(`wrote ${await write(root, model, n)}\n`);
  }
}
