import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import type { CtrModel } from '../model/ctr-model.ts';
import { describeModelFeaturization, ONNX_PATH } from '../model/featurization.ts';
import {
  EXPORT_FORMAT,
  embeddingsToArrow,
  sha256,
  type DenseModelJson,
  type ExportManifest,
} from '../model/export-format.ts';
import { towerToOnnx } from '../model/onnx-tower.ts';
import { syncDir, writeDurable } from './durable-fs.ts';
import { assertFiniteWeights } from './finite-check.ts';

/** What the trainer knows at export time besides the model. */
export interface ExportMeta {
  step: number;
  examples: number;
  sourceOffsets: Record<string, number>;
  watermarkMs: number | null;
  metrics: Record<string, number | null>;
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
  const version = String(Math.max(Date.now(), (Number.isFinite(prev) ? prev : 0) + 1));
  const tmp = join(root, `.tmp-${version}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(join(tmp, 'dense'), { recursive: true });
  await mkdir(join(tmp, 'embeddings'), { recursive: true });
  let bytes = 0;
  // each file is hashed from the bytes written, not read back
  const checksums: Record<string, string> = {};
  const put = async (rel: string, data: Uint8Array | string) => {
    await writeDurable(join(tmp, rel), data);
    checksums[rel] = sha256(data);
  };

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
  await put('dense/model.json', JSON.stringify(denseJson, null, 1));
  await put('dense/weights.bin', new Uint8Array(weights.buffer));
  bytes += weights.byteLength;
  const onnxNames = denseJson.weightsManifest[0].weights.map((w) => w.name);
  const onnxBytes = towerToOnnx(model.inputDim, model.config.hidden, datas, onnxNames);
  await put(ONNX_PATH, onnxBytes);
  bytes += onnxBytes.byteLength;
  for (const t of model.tables) {
    const buf = arrow.tableToIPC(
      embeddingsToArrow(t.rowHi, t.rowLo, t.rows.packedWeights(t.size), t.size, t.width),
      'file',
    );
    await put(`embeddings/${t.slot}.arrow`, buf);
    bytes += buf.byteLength;
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
    files: checksums,
  };
  await writeDurable(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1));
  // durable before it is visible: files above, then their directory entries, then the renames
  for (const d of ['dense', 'embeddings', '.']) await syncDir(join(tmp, d));
  const dir = join(root, version);
  await rename(tmp, dir);
  await writeDurable(join(root, '.LATEST.tmp'), `${version}\n`);
  await rename(join(root, '.LATEST.tmp'), join(root, 'LATEST'));
  await syncDir(root);
  await pruneExports(root, keep, version);
  return { version, dir, bytes };
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
