/**
 * A writer process for the kill tests (test/integration/export-kill.test.ts): builds a small
 * model (rows admitted directly, no training), prints `ready`, waits for a line on stdin (so
 * that a test can start the next writer while the current one runs, and never has two
 * writing), then writes exports of one kind into an exports root in a loop, with the
 * project's writers, until it is killed; prints `begin <full|delta>` before and
 * `wrote <version> <full|delta>` after each export.
 *
 *   node --import tsx test/helpers/export-writer-loop.ts <root> <kind> [rowsPerSlot]
 *
 * Deleting a directory (pruning old versions) is slowed down here, as on a slow disk or with
 * a large version: `fs.promises.rm` of a directory prints `rm <name>` and then unlinks its
 * files one at a time, 2 ms apart, before removing the rest as the writer asked; so that a
 * test can aim kills at the middle of a deletion.
 *
 * Kinds (WRITER_KINDS): `full` = writeExport, every export a full one; `delta` = as a trainer
 * with export.deltaIntervalSeconds: a full export (writeExport), then DELTAS_PER_FULL deltas
 * chained on it (writeDelta, the rows changed since the previous export), then the next full
 * export, and so on. A new writer (a restarted trainer) starts with a full export.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import fsp, { readFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { criteoSlots, type FeatureSchema } from '../../src/features/schema.ts';
import { CtrModel } from '../../src/model/ctr-model.ts';
import type { DeltaPredecessor } from '../../src/model/delta-format.ts';
import { writeDelta } from '../../src/train/delta-writer.ts';
import { type ExportMeta, writeExport } from '../../src/train/export-writer.ts';

/** The export kinds this writer knows. */
export const WRITER_KINDS = ['full', 'delta'] as const;
export type WriterKind = (typeof WRITER_KINDS)[number];

/** Deltas written on each full export by the `delta` writer. */
export const DELTAS_PER_FULL = 4;

/** A model of the Criteo slots (dim 4, tower [16]) with `rowsPerSlot` rows admitted in every table. */
async function writerModel(rowsPerSlot: number): Promise<CtrModel> {
  await tf.setBackend('cpu'); // the cpu backend alone: a writer starts faster without the others
  const schema: FeatureSchema = { ...criteoSlots(), embeddingDim: 4 };
  const model = new CtrModel(schema, { hidden: [16], initStd: 0.01, seed: 1 });
  for (const t of model.tables) for (let i = 0; i < rowsPerSlot; i++) t.findOrAdmit(i * 7919, i);
  return model;
}

// no grace: the kill test aims kills at deletions, which a grace would put off for a minute
const KEEP = { keep: 3, graceMs: 0 };

/** A writer of one kind: what its next export is, and writing it (`n` counts this process's exports). */
interface LoopWriter {
  next(): 'full' | 'delta';
  write(n: number): Promise<string>;
}

const meta = (n: number, afterVersion?: string): ExportMeta => ({
  step: n,
  examples: n,
  sourceOffsets: { 'synthetic/0': n },
  watermarkMs: null,
  metrics: {},
  afterVersion,
});

const writers: Record<WriterKind, (root: string, model: CtrModel) => LoopWriter> = {
  full: (root, model) => ({
    next: () => 'full',
    write: async (n) => (await writeExport(root, model, meta(n), KEEP)).version,
  }),
  delta: (root, model) => {
    let chain: { dir: string; next: DeltaPredecessor } | null = null;
    const next = () => (chain === null || chain.next.nextSeq > DELTAS_PER_FULL ? 'full' : 'delta');
    return {
      next,
      write: async (n) => {
        if (next() === 'full' || chain === null) {
          const w = await writeExport(root, model, meta(n, chain?.next.version), KEEP);
          const manifestBytes = await readFile(join(w.dir, 'manifest.json'));
          chain = { dir: w.dir, next: { baseVersion: w.version, nextSeq: 1, version: w.version, manifestBytes } };
          return w.version;
        }
        // the rows the loop changed since the previous export: row 0 and row n of every table
        const rows = model.tables.map((t) => Int32Array.of(0, n % t.size));
        const d = await writeDelta(chain.dir, chain.next, model, rows, meta(n));
        chain.next = d.next;
        return d.manifest.version;
      },
    };
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
  const writer = writers[kind as WriterKind](root, model);
  process.stdout.write('ready\n');
  await new Promise((go) => process.stdin.once('data', go));
  for (let n = 1; ; n++) {
    // the model changes between exports, as a trainer's does (the rows a delta writes)
    for (const t of model.tables) {
      t.rows.data[0] += 1e-3;
      t.rows.data[(n % t.size) * t.rows.stride + 1] += 1e-3;
    }
    const what = writer.next();
    process.stdout.write(`begin ${what}\n`);
    process.stdout.write(`wrote ${await writer.write(n)} ${what}\n`);
  }
}
