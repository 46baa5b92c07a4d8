import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CtrModel } from '../model/ctr-model.ts';
import { describeModelFeaturization } from '../model/featurization.ts';
import { EXPORT_FORMAT, type ExportManifest } from '../model/export-format.ts';
import type { WeightDtype } from '../model/weight-dtype.ts';
import { inTempDir, inWrite, replaceDurable, syncDir, writeFault } from './durable-fs.ts';
import {
  ExportDirWriter,
  type PrunePolicy,
  prunePolicy,
  pruneVersions,
  tableRowsToIpc,
  writeDenseFiles,
} from './export-files.ts';
import { assertFiniteWeights, nonFiniteIn, refuseNonFinite } from './finite-check.ts';

/** What the trainer knows at export time besides the model. */
export interface ExportMeta {
  step: number;
  examples: number;
  sourceOffsets: Record<string, number>;
  watermarkMs: number | null;
  metrics: Record<string, number | null>;
  /** A version the new one must be greater than besides LATEST's (the last delta's: LATEST does not name it). */
  afterVersion?: string;
  /** How the tables' weights are stored (export.weightDtype, src/model/weight-dtype.ts); default float32. */
  weightDtype?: WeightDtype;
}

/** What writeCandidate / writeExport wrote: the version, its directory and its size (bytes). */
export interface WrittenExport {
  version: string;
  dir: string;
  bytes: number;
}

/** Directory name of a complete export awaiting the publish gate (not a version: serving ignores it). */
export const candidateName = (version: string) => `.candidate-${version}`;
/** Directory name of an export the publish gate refused (kept for inspection; serving ignores it). */
export const refusedName = (version: string) => `refused-${version}`;

/**
 * Writes an export of `model` under `root` and publishes it at once: writeCandidate, then
 * publishCandidate (a reader never sees a half-written version; everything is fsynced before
 * it is renamed into view). Keeps the newest `keep` versions and deletes older ones.
 * @returns the version written and its directory.
 * @throws as writeCandidate and publishCandidate.
 */
export async function writeExport(
  root: string,
  model: CtrModel,
  meta: ExportMeta,
  keep: number | PrunePolicy = 3,
): Promise<WrittenExport> {
  const c = await writeCandidate(root, model, meta);
  return { ...c, dir: await publishCandidate(root, c.version, keep) };
}

/**
 * Writes an export of `model` under `root` (format in src/model/export-format.ts) without
 * publishing it: into `<root>/.tmp-<version>`, renamed to `<root>/.candidate-<version>` when
 * complete; every file and directory is fsynced before the rename (durable-fs.ts), as
 * checkpoints are. Its version is greater than LATEST's, `meta.afterVersion` and every
 * version, candidate or refused one on disk. publishCandidate or refuseCandidate decides
 * what becomes of it.
 * @returns the version written and its (candidate) directory.
 * @throws LionctrError LIONCTR_DIVERGED, before anything is written, when a weight is NaN or
 *   infinite (finite-check.ts), or (its temp directory removed) a weight beyond float16's range
 *   when `meta.weightDtype` is float16 (+-65520 and beyond round to infinity);
 *   LIONCTR_WRITE_FAILED (ENOSPC, EACCES, ...) naming the version, the file and the operation,
 *   after removing its temp directory.
 */
export async function writeCandidate(root: string, model: CtrModel, meta: ExportMeta): Promise<WrittenExport> {
  assertFiniteWeights(model, `an export under ${root}`);
  await mkdir(root, { recursive: true });
  const after = Math.max(await newestOnDisk(root), Number(meta.afterVersion ?? 0) || 0);
  const version = String(Math.max(Date.now(), after + 1));
  const tmp = join(root, `.tmp-${version}`);
  const w = new ExportDirWriter(tmp);
  const dir = join(root, candidateName(version));
  // a failed write removes its temp dir at once: nothing of it stays on a full disk
  await inTempDir(tmp, `export version ${version} under ${root}`, async () => {
    await w.create(['dense', 'embeddings']);
    await writeDenseFiles(w, model);
    const dtype = meta.weightDtype ?? 'float32';
    for (const t of model.tables) {
      const ipc = tableRowsToIpc(t, undefined, dtype);
      const bad = nonFiniteIn(storedPart(t.slot, dtype), ipc.values);
      if (bad) refuseNonFinite([bad], `export version ${version} under ${root}`);
      await w.put(`embeddings/${t.slot}.arrow`, ipc.bytes);
    }
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
      weight_dtype: dtype,
      files: w.files,
    };
    // the parent is not synced: a candidate lost in a crash is never published (its name is pruned)
    await w.finish(manifest, dir, false);
  });
  return { version, dir, bytes: w.bytes };
}

/**
 * Publishes the candidate `version` (writeCandidate): renamed to `<root>/<version>`, then
 * LATEST replaced by write-to-temp + rename, and the root fsynced. Keeps the newest `keep`
 * versions, and older ones a server may still be loading (export-files.ts pruneVersions).
 * @returns the version's directory.
 * @throws LionctrError LIONCTR_WRITE_FAILED (ENOENT when there is no such candidate; ENOSPC ...)
 *   after removing the candidate: LATEST still names the previous version.
 */
export async function publishCandidate(root: string, version: string, keep: number | PrunePolicy = 3): Promise<string> {
  const dir = join(root, version);
  try {
    await rename(join(root, candidateName(version)), dir);
    await replaceDurable(root, 'LATEST', `${version}\n`);
  } catch (e) {
    // LATEST still names the previous version: this one goes (no version is on disk unpublished)
    for (const d of [join(root, candidateName(version)), dir]) await rm(d, { recursive: true, force: true });
    throw inWrite(writeFault(e, 'rename', join(root, version)), `publishing export version ${version}`);
  }
  await syncDir(root);
  await pruneExports(root, keep, version);
  return dir;
}

/**
 * Sets the candidate `version` aside as `<root>/refused-<version>` (LATEST untouched), for
 * inspection; only the newest `keepRefused` refused exports are kept.
 * @returns the refused export's directory.
 * @throws filesystem errors (ENOENT when there is no such candidate).
 */
export async function refuseCandidate(root: string, version: string, keepRefused = 1): Promise<string> {
  const dir = join(root, refusedName(version));
  await rename(join(root, candidateName(version)), dir);
  await syncDir(root);
  const refused = (await readdir(root))
    .filter((n) => /^refused-\d+$/.test(n))
    .sort((a, b) => Number(b.slice(8)) - Number(a.slice(8)));
  for (const n of refused.slice(keepRefused)) await rm(join(root, n), { recursive: true, force: true });
  return dir;
}

/** A table's name in a refusal: its float16 weights overflow where its float32 ones are finite. */
export const storedPart = (slot: string, dtype: WeightDtype): string =>
  `embeddings ${slot}${dtype === 'float16' ? ' as float16 (|w| >= 65520 overflows: use bfloat16)' : ''}`;

/** The newest version LATEST or a name under `root` holds (a version, candidate or refused one); 0 when none. */
async function newestOnDisk(root: string): Promise<number> {
  const latest = await readFile(join(root, 'LATEST'), 'utf8').then(
    (s) => Number(s.trim()),
    () => 0,
  );
  let newest = Number.isFinite(latest) ? latest : 0;
  for (const n of await readdir(root)) {
    const m = /^(?:\.candidate-|refused-)?(\d+)$/.exec(n);
    if (m) newest = Math.max(newest, Number(m[1]));
  }
  return newest;
}

async function pruneExports(root: string, keep: number | PrunePolicy, current: string): Promise<void> {
  const names = await readdir(root);
  // half-written versions and candidates never decided of a writer that crashed (old enough not
  // to be another's in progress), and half-deleted ones
  const stale = (n: string) => {
    const m = /^\.(?:tmp|candidate)-(\d+)$/.exec(n);
    return (m !== null && Date.now() - Number(m[1]) > 600_000) || n.startsWith('.del-');
  };
  for (const n of names.filter(stale)) await rm(join(root, n), { recursive: true, force: true });
  await pruneVersions(root, names, current, prunePolicy(keep));
}
