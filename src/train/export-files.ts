/**
 * The pieces full exports (export-writer.ts) and delta exports (delta-writer.ts) share: a
 * temp directory whose every file is written durably and hashed from the bytes written
 * (not read back), the dense tower's files (dense/model.json + weights.bin as tfjs reads
 * them, dense/model.onnx from src/model/onnx-tower.ts), one table's rows as an Arrow file,
 * the fsync-then-rename that makes a finished directory visible (durable-fs.ts), and the
 * pruning of old versions that never takes one a server may still be loading.
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as arrow from 'apache-arrow';
import type { CtrModel } from '../model/ctr-model.ts';
import type { EmbeddingTable } from '../model/embedding-table.ts';
import { embeddingsToArrow, sha256, type DenseModelJson } from '../model/export-format.ts';
import { VERSION_NAME } from '../model/export-paths.ts';
import { ONNX_PATH } from '../model/featurization.ts';
import { towerToOnnx } from '../model/onnx-tower.ts';
import { idHalf } from '../model/row-ids.ts';
import { decodeWeights, encodeWeights, type WeightDtype } from '../model/weight-dtype.ts';
import { syncDir, writeDurable } from './durable-fs.ts';

/** A directory being written: every file fsynced and its sha256 recorded. */
export class ExportDirWriter {
  /** sha256 (hex) of every file put, by path relative to `dir` (the manifest's `files`). */
  readonly files: Record<string, string> = {};
  /** Bytes of the files put with `count` (weights, tower, tables). */
  bytes = 0;
  private readonly dirs = new Set<string>(['.']);

  /** @param dir the temp directory (created empty by `create`). */
  constructor(readonly dir: string) {}

  /** Removes what a crashed writer left at `dir` and creates it with `subdirs`. */
  async create(subdirs: string[]): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true });
    for (const d of subdirs) {
      await mkdir(join(this.dir, d), { recursive: true });
      this.dirs.add(d);
    }
  }

  /**
   * Writes `rel` durably and records its sha256 (in call order: puts of different files may
   * run concurrently, and fsyncs in parallel share journal commits); `count` adds its size to
   * `bytes`.
   */
  async put(rel: string, data: Uint8Array | string, count = true): Promise<void> {
    this.files[rel] = sha256(data);
    if (count) this.bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    await writeDurable(join(this.dir, rel), data);
  }

  /**
   * Writes `manifest.json` (not in `files`), fsyncs every directory, renames the directory to
   * `to` and fsyncs `to`'s parent: once this resolves the directory and all its files are
   * durable and visible at once.
   * @param syncParent false when the caller fsyncs the parent itself after more renames in it
   *   (a full export: after LATEST's).
   * @returns the manifest's bytes as written (the next delta's prev_sha256 is their hash).
   */
  async finish(manifest: object, to: string, syncParent = true): Promise<string> {
    const text = JSON.stringify(manifest, null, 1);
    await writeDurable(join(this.dir, 'manifest.json'), text);
    // durable before it is visible: files, then their directory entries, then the rename
    for (const d of [...this.dirs].filter((x) => x !== '.')) await syncDir(join(this.dir, d));
    await syncDir(this.dir);
    await rename(this.dir, to);
    if (syncParent) await syncDir(dirname(to));
    return text;
  }
}

/**
 * Writes the dense tower of `model` into `w`: dense/model.json (topology + weights
 * manifest), dense/weights.bin (float32 little-endian, the variables in order) and
 * dense/model.onnx (the same tower as ONNX).
 */
export async function writeDenseFiles(w: ExportDirWriter, model: CtrModel): Promise<void> {
  const vars = model.tower.vars;
  const datas = await Promise.all(vars.map((v) => v.data() as Promise<Float32Array>));
  const weights = new Float32Array(datas.reduce((a, d) => a + d.length, 0));
  let o = 0;
  for (const d of datas) {
    weights.set(d, o);
    o += d.length;
  }
  const denseJson: DenseModelJson = {
    format: 'lionctr-dense-tower',
    modelTopology: { input_dim: model.inputDim, hidden: model.config.hidden, activation: 'relu' },
    weightsManifest: [
      {
        paths: ['weights.bin'],
        weights: vars.map((v) => ({
          name: v.name.replace(/^tower\d+\//, 'tower/'),
          shape: v.shape,
          dtype: 'float32' as const,
        })),
      },
    ],
  };
  await w.put('dense/model.json', JSON.stringify(denseJson, null, 1), false);
  await w.put('dense/weights.bin', new Uint8Array(weights.buffer));
  const onnxNames = denseJson.weightsManifest[0].weights.map((x) => x.name);
  await w.put(ONNX_PATH, towerToOnnx(model.inputDim, model.config.hidden, datas, onnxNames));
}

/**
 * The Arrow IPC file of table `t`'s rows `rows` (ascending row indices; all rows 0..size-1
 * when omitted), with their ids and W weights stored as `dtype` (src/model/weight-dtype.ts).
 * @returns the file bytes and the packed [n, W] weights as stored, widened back to float32
 *   (for a finite check: a float16 weight beyond +-65504 is stored as +-Infinity).
 */
export function tableRowsToIpc(
  t: EmbeddingTable,
  rows?: Int32Array,
  dtype: WeightDtype = 'float32',
): { bytes: Uint8Array; values: Float32Array } {
  const ipc = (hi: Uint32Array, lo: Uint32Array, values: Float32Array, n: number) => {
    const stored = encodeWeights(values, dtype);
    const table = embeddingsToArrow(hi, lo, stored, n, t.width, dtype);
    return {
      bytes: arrow.tableToIPC(table, 'file'),
      values: dtype === 'float32' ? values : decodeWeights(stored, dtype),
    };
  };
  if (!rows) return ipc(idHalf(t.ids, t.size, 0), idHalf(t.ids, t.size, 1), t.rows.packedWeights(t.size), t.size);
  const n = rows.length,
    W = t.width,
    store = t.rows;
  const hi = new Uint32Array(n),
    lo = new Uint32Array(n),
    values = new Float32Array(n * W);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    hi[i] = t.idHi(r);
    lo[i] = t.idLo(r);
    values.set(store.dataOf(r).subarray(store.at(r), store.at(r) + W), i * W);
  }
  return ipc(hi, lo, values, n);
}

/**
 * Seconds a version stays on disk after LATEST moved past it, beyond the newest `keep`: a server
 * that read LATEST just before the move may still be loading it (src/serve/model-registry.ts
 * polls every serve.pollSeconds, and a load of a large model takes seconds to minutes).
 */
export const PRUNE_GRACE_MS = 60_000;

/** Which versions pruneVersions keeps: the newest `keep`, and any superseded less than `graceMs` ago. */
export interface PrunePolicy {
  keep: number;
  graceMs: number;
}

/** `keep` (a count: PRUNE_GRACE_MS) or a whole policy, as export-writer.ts takes it. */
export const prunePolicy = (keep: number | PrunePolicy): PrunePolicy =>
  typeof keep === 'number' ? { keep, graceMs: PRUNE_GRACE_MS } : keep;

/**
 * Deletes the versions among `names` (entries of `root`) that no reader may still be loading:
 * beyond the newest `policy.keep` (and never `current`), a version goes only once its successor
 * (the next newer version) has been published `policy.graceMs` or longer ago. The successor's
 * publish time is taken as the later of its version (ms since epoch when it was written) and
 * its directory's ctime (set by the rename that published it; delta exports written into it
 * move it later, which only keeps more). Each version is renamed out of view (`.del-<v>`) before
 * it is removed, so a writer killed while deleting never leaves part of a version visible.
 * @returns the versions deleted.
 * @throws filesystem errors of the rename or removal.
 */
export async function pruneVersions(
  root: string,
  names: string[],
  current: string,
  policy: PrunePolicy,
): Promise<string[]> {
  const versions = names.filter((n) => VERSION_NAME.test(n)).sort((a, b) => Number(b) - Number(a));
  const now = Date.now(),
    deleted: string[] = [];
  for (let i = Math.max(policy.keep, 1); i < versions.length; i++) {
    const v = versions[i];
    if (v === current) continue;
    const next = versions[i - 1];
    const published = await stat(join(root, next)).then(
      (s) => Math.max(Number(next), s.ctimeMs),
      () => now, // cannot tell: as if just published
    );
    if (now - published < policy.graceMs) continue;
    await rename(join(root, v), join(root, `.del-${v}`));
    await rm(join(root, `.del-${v}`), { recursive: true, force: true });
    deleted.push(v);
  }
  return deleted;
}
