import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CtrModel } from '../model/ctr-model.ts';
import { describeModelFeaturization } from '../model/featurization.ts';
import { EXPORT_FORMAT, type ExportManifest } from '../model/export-format.ts';
import { syncDir, writeDurable } from './durable-fs.ts';
import { ExportDirWriter, tableRowsToIpc, writeDenseFiles } from './export-files.ts';
import { assertFiniteWeights } from './finite-check.ts';

/** What the trainer knows at export time besides the model. */
export interface ExportMeta {
  step: number;
  examples: number;
  sourceOffsets: Record<string, number>;
  watermarkMs: number | null;
  metrics: Record<string, number | null>;
  /** A version the new one must be greater than besides LATEST's (the last delta's: LATEST does not name it). */
  afterVersion?: string;
}

/**
 * Writes an export of `model` under `root` (format in src/model/export-format.ts): into
 * `<root>/.tmp-<version>`, renamed to `<root>/<version>` when complete, then LATEST is
 * replaced by write-to-temp + rename, so a reader never sees a half-written version; every file
 * and directory is fsynced before it is renamed into view (durable-fs.ts), as checkpoints are.
 * Keeps the newest `keep` versions and deletes older ones (renamed to `.del-<version>` first).
 * @returns the version written and its directory.
 * @throws LionctrError LIONCTR_DIVERGED, before anything is written, when a weight is NaN or
 *   infinite (finite-check.ts); filesystem errors (ENOSPC, EACCES) as they come.
 */
export async function writeExport(
  root: string,
  model: CtrModel,
  meta: ExportMeta,
  keep = 3,
): Promise<{ version: string; dir: string; bytes: number }> {
  assertFiniteWeights(model, `an export under ${root}`);
  await mkdir(root, { recursive: true });
  const prev = await readFile(join(root, 'LATEST'), 'utf8').then(
    (s) => Number(s.trim()),
    () => 0,
  );
  const after = Math.max(Number.isFinite(prev) ? prev : 0, Number(meta.afterVersion ?? 0) || 0);
  const version = String(Math.max(Date.now(), after + 1));
  const w = new ExportDirWriter(join(root, `.tmp-${version}`));
  await w.create(['dense', 'embeddings']);
  await writeDenseFiles(w, model);
  for (const t of model.tables) await w.put(`embeddings/${t.slot}.arrow`, tableRowsToIpc(t).bytes);
  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    version,
    step: meta.step,
    examples: meta.examples,
    created_at: new Date().toISOString(),
    source_offsets: meta.sourceOffsets,
    event_time_watermark_ms: meta.watermarkMs,
    schema: model.schema,
    model: { ...model.config, input_dim: model.inputDim, slots: model.slots, dims: model.dims },
    featurization: describeModelFeaturization(model),
    metrics: meta.metrics,
    files: w.files,
  };
  const dir = join(root, version);
  await w.finish(manifest, dir, false);
  await writeDurable(join(root, '.LATEST.tmp'), `${version}\n`);
  await rename(join(root, '.LATEST.tmp'), join(root, 'LATEST'));
  await syncDir(root);
  await pruneExports(root, keep, version);
  return { version, dir, bytes: w.bytes };
}

async function pruneExports(root: string, keep: number, current: string): Promise<void> {
  const names = await readdir(root);
  // half-written versions of a writer that crashed (old enough not to be another's in progress),
  // and half-deleted ones
  for (const n of names.filter(
    (x) => (x.startsWith('.tmp-') && Date.now() - Number(x.slice(5)) > 600_000) || x.startsWith('.del-'),
  ))
    await rm(join(root, n), { recursive: true, force: true });
  const versions = names.filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(b) - Number(a));
  // renamed out of view first: a writer killed while deleting never leaves part of a version visible
  for (const v of versions.slice(Math.max(keep, 1)))
    if (v !== current) {
      await rename(join(root, v), join(root, `.del-${v}`));
      await rm(join(root, `.del-${v}`), { recursive: true, force: true });
    }
}
