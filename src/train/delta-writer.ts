/**
 * Writes one delta export (format: src/model/delta-format.ts; issue 11 "Delta exports"):
 * the rows changed since the previous export of the chain, tombstones for rows removed, and
 * the full dense tower, into `<root>/<base>/.tmp-delta-<n>`, every file and directory
 * fsynced, then renamed to `delta-<n>` and the base directory fsynced. LATEST is not touched.
 * Shares its pieces with full exports (export-files.ts).
 */
import { join } from 'node:path';
import { tableToIPC } from 'apache-arrow';
import { LionctrError } from '../errors.ts';
import type { CtrModel } from '../model/ctr-model.ts';
import {
  DELTA_FORMAT,
  deltaDirName,
  deltaRowsPath,
  deltaTmpName,
  deltaTombstonesPath,
  tombstonesToArrow,
  type DeltaManifest,
  type DeltaPredecessor,
} from '../model/delta-format.ts';
import { sha256 } from '../model/export-format.ts';
import { inTempDir } from './durable-fs.ts';
import { ExportDirWriter, tableRowsToIpc, writeDenseFiles } from './export-files.ts';
import { type ExportMeta, storedPart } from './export-writer.ts';
import { nonFiniteDense, nonFiniteIn, refuseNonFinite, type NonFinitePart } from './finite-check.ts';

/** Ids removed from one slot's table: [n] halves of each 64-bit id. */
export interface RemovedIds {
  hi: Uint32Array;
  lo: Uint32Array;
}

/** A delta written. */
export interface DeltaWritten {
  manifest: DeltaManifest;
  /** The delta's directory, `<baseDir>/delta-<n>`. */
  dir: string;
  /** Bytes of its dense and row files (manifest and model.json not counted). */
  bytes: number;
  /** Changed rows written, all slots. */
  rows: number;
  /** Tombstones written, all slots. */
  tombstones: number;
  /** What the next delta chains onto (this one). */
  next: DeltaPredecessor;
}

/**
 * Writes delta `prev.nextSeq` of the chain on the full export at `baseDir`.
 * @param baseDir `<root>/<base>` (it exists: the full export `prev.baseVersion`).
 * @param prev what this delta chains onto (the base, or the previous delta).
 * @param rows per table in model order, the changed row indices, ascending (RowChanges.list()).
 * @param removed ids removed per slot since the previous export (tombstones; none today).
 * @param meta the trainer's figures; `afterVersion` is ignored (the chain's version rules).
 * @returns the manifest and what the next delta chains onto. Version: max(now ms, previous + 1).
 * @throws LionctrError LIONCTR_DIVERGED, before anything is written, when a weight of the
 *   tower or of a changed row is NaN or infinite (as stored: meta.weightDtype float16 overflows
 *   beyond +-65504); LIONCTR_INTERNAL when `rows` does not match
 *   the model's tables or `removed` names an unknown slot; LIONCTR_WRITE_FAILED naming the delta,
 *   the file and the operation (its temp dir removed at once: nothing is visible then).
 */
export async function writeDelta(
  baseDir: string,
  prev: DeltaPredecessor,
  model: CtrModel,
  rows: readonly Int32Array[],
  meta: ExportMeta,
  removed: Readonly<Record<string, RemovedIds>> = {},
): Promise<DeltaWritten> {
  // a failed write removes its temp dir at once (LIONCTR_WRITE_FAILED names the delta and the file)
  const what = `delta ${prev.nextSeq} under ${baseDir}`;
  return inTempDir(join(baseDir, deltaTmpName(prev.nextSeq)), what, () =>
    writeDeltaFiles(baseDir, prev, model, rows, meta, removed),
  );
}

/** writeDelta without the temp directory's cleanup on failure. */
async function writeDeltaFiles(
  baseDir: string,
  prev: DeltaPredecessor,
  model: CtrModel,
  rows: readonly Int32Array[],
  meta: ExportMeta,
  removed: Readonly<Record<string, RemovedIds>>,
): Promise<DeltaWritten> {
  if (rows.length !== model.tables.length)
    throw new LionctrError(
      'LIONCTR_INTERNAL',
      `delta rows for ${rows.length} tables, the model has ${model.tables.length}`,
    );
  for (const slot of Object.keys(removed))
    if (!model.slots.includes(slot))
      throw new LionctrError('LIONCTR_INTERNAL', `tombstones for unknown slot ${JSON.stringify(slot)}`);
  const seq = prev.nextSeq;
  const what = `delta ${seq} under ${baseDir}`;
  // every value to be written is checked before anything is: the tower, then the changed rows
  // (the other rows were checked when the previous export of the chain wrote them)
  const bad: NonFinitePart[] = nonFiniteDense(model);
  const dtype = meta.weightDtype ?? 'float32';
  const tables = model.tables.map((t, f) => {
    const ipc = rows[f].length > 0 ? tableRowsToIpc(t, rows[f], dtype) : null;
    const b = ipc && nonFiniteIn(storedPart(t.slot, dtype), ipc.values);
    if (b) bad.push(b);
    return ipc?.bytes ?? null;
  });
  refuseNonFinite(bad, what);

  const version = String(Math.max(Date.now(), Number(prev.version) + 1));
  const w = new ExportDirWriter(join(baseDir, deltaTmpName(seq)));
  const anyRemoved = Object.values(removed).some((r) => Math.min(r.hi.length, r.lo.length) > 0);
  await w.create(['dense', 'embeddings', ...(anyRemoved ? ['tombstones'] : [])]);
  const rowCounts: Record<string, number> = {},
    tombCounts: Record<string, number> = {};
  let nRows = 0,
    nTomb = 0;
  // the small files of a delta are written and fsynced in parallel (3-4x faster than one by one)
  const puts: Promise<void>[] = [writeDenseFiles(w, model)];
  for (const [f, t] of model.tables.entries()) {
    const bytes = tables[f];
    if (bytes) puts.push(w.put(deltaRowsPath(t.slot), bytes));
    rowCounts[t.slot] = rows[f].length;
    nRows += rows[f].length;
    const gone = removed[t.slot];
    const n = gone ? Math.min(gone.hi.length, gone.lo.length) : 0;
    if (n > 0)
      puts.push(w.put(deltaTombstonesPath(t.slot), tableToIPC(tombstonesToArrow(gone.hi, gone.lo, n), 'file')));
    tombCounts[t.slot] = n;
    nTomb += n;
  }
  // every write settles before a failure is thrown: none may land in a later try's temp dir
  const failed = (await Promise.allSettled(puts)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  const manifest: DeltaManifest = {
    format: DELTA_FORMAT,
    base_version: prev.baseVersion,
    seq,
    version,
    prev_sha256: sha256(prev.manifestBytes),
    step: meta.step,
    examples: meta.examples,
    created_at: new Date().toISOString(),
    source_offsets: meta.sourceOffsets,
    event_time_watermark_ms: meta.watermarkMs,
    metrics: meta.metrics,
    rows: rowCounts,
    tombstones: tombCounts,
    weight_dtype: dtype,
    files: w.files,
  };
  const dir = join(baseDir, deltaDirName(seq));
  const text = await w.finish(manifest, dir);
  return {
    manifest,
    dir,
    bytes: w.bytes,
    rows: nRows,
    tombstones: nTomb,
    next: { baseVersion: prev.baseVersion, nextSeq: seq + 1, version, manifestBytes: text },
  };
}
