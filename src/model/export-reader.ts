import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { LionctrError } from '../errors.ts';
import { CtrModel } from './ctr-model.ts';
import { createServingTower, type ServingTowerOptions, servingTowerOptions } from './serving-tower.ts';
import {
  EXPORT_FORMAT,
  embeddingsFromArrow,
  sha256,
  type DenseModelJson,
  type ExportManifest,
} from './export-format.ts';

/**
 * Resolves a path to a version directory: a version dir (has manifest.json) as is, an
 * exports root through its LATEST file.
 * @throws LionctrError LIONCTR_BAD_EXPORT when neither is found.
 */
export async function resolveExportDir(path: string): Promise<string> {
  if (await exists(join(path, 'manifest.json'))) return path;
  const latest = await readFile(join(path, 'LATEST'), 'utf8').catch(() => null);
  if (latest === null)
    throw new LionctrError(
      'LIONCTR_BAD_EXPORT',
      `no export found: neither ${path}/manifest.json nor ${path}/LATEST exists`,
      { where: path },
    );
  return join(path, latest.trim());
}

/** The version LATEST names under an exports root, or null when there is none yet. */
export async function readLatest(root: string): Promise<string | null> {
  const s = await readFile(join(root, 'LATEST'), 'utf8').catch(() => null);
  if (s === null) return null;
  const v = s.trim();
  if (!/^\d+$/.test(v))
    throw new LionctrError(
      'LIONCTR_BAD_EXPORT',
      `LATEST must hold a version number, got ${JSON.stringify(v.slice(0, 40))}`,
      { where: join(root, 'LATEST') },
    );
  return v;
}

/**
 * Loads and verifies an export version directory into a serving CtrModel (variables not
 * trainable), with its serving tower (`tower`, default: configureServingTower's; see
 * serving-tower.ts), freed by model.dispose(). Every file's sha256 is checked against the manifest.
 * @throws LionctrError LIONCTR_BAD_EXPORT naming the file that is missing, corrupt or
 *   inconsistent.
 */
export async function loadExport(
  dir: string,
  tower: ServingTowerOptions = servingTowerOptions(),
): Promise<{ model: CtrModel; manifest: ExportManifest }> {
  const fail = (msg: string, where: string, cause?: unknown): never => {
    throw new LionctrError('LIONCTR_BAD_EXPORT', msg, { where: join(dir, where), cause });
  };
  const manifest = JSON.parse(
    await readFile(join(dir, 'manifest.json'), 'utf8').catch((e) => fail('cannot read manifest', 'manifest.json', e)),
  ) as ExportManifest;
  if (manifest.format !== EXPORT_FORMAT)
    fail(`unknown export format ${JSON.stringify(manifest.format)}`, 'manifest.json');
  // every file is read once, verified against the manifest's sha256, then parsed
  const files = new Map<string, Buffer>();
  for (const [rel, sum] of Object.entries(manifest.files ?? {})) {
    const buf = await readFile(join(dir, rel)).catch((e) => fail('file missing', rel, e));
    if (sha256(buf) !== sum) fail('checksum mismatch (corrupt or partial file)', rel);
    files.set(rel, buf);
  }
  const file = (rel: string): Buffer => files.get(rel) ?? fail('file not listed in the manifest', rel);
  const dense = JSON.parse(file('dense/model.json').toString('utf8')) as DenseModelJson;
  const wbuf = file('dense/weights.bin');
  const all = new Float32Array(wbuf.buffer.slice(wbuf.byteOffset, wbuf.byteOffset + wbuf.byteLength));
  const towerValues: Float32Array[] = [];
  let o = 0;
  for (const w of dense.weightsManifest[0].weights) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (o + n > all.length) fail('weights.bin is shorter than model.json says', 'dense/weights.bin');
    towerValues.push(all.subarray(o, o + n));
    o += n;
  }
  // a diverged model (NaN or infinite weights) is refused: serving keeps the version it has
  const nonFinite = (rel: string, v: Float32Array) => {
    const bad = countNonFinite(v);
    if (bad) fail(`${bad} of ${v.length} weights are NaN or infinite (a diverged model)`, rel);
  };
  nonFinite('dense/weights.bin', all.subarray(0, o));
  const { hidden, initStd, seed, fm } = manifest.model;
  const model = new CtrModel(manifest.schema, { hidden, initStd, seed, fm }, { towerValues, trainable: false });
  try {
    if (model.inputDim !== dense.modelTopology.input_dim)
      fail(
        `tower input ${dense.modelTopology.input_dim} does not match the schema (${model.inputDim})`,
        'dense/model.json',
      );
    for (const t of model.tables) {
      const rel = `embeddings/${t.slot}.arrow`;
      let parsed: ReturnType<typeof embeddingsFromArrow>;
      try {
        parsed = embeddingsFromArrow(arrow.tableFromIPC(file(rel)), t.width);
      } catch (e) {
        fail(`not a valid embedding table: ${(e as Error).message}`, rel, e);
      }
      const { hi, lo, values, n } = parsed!;
      nonFinite(rel, values.subarray(0, n * t.width));
      for (let i = 0; i < n; i++) t.put(hi[i], lo[i], values.subarray(i * t.width, (i + 1) * t.width));
    }
    model.servingTower = await createServingTower(model.tower, tower);
  } catch (e) {
    model.dispose(); // the tower's tensors are not garbage-collected
    throw e;
  }
  return { model, manifest };
}

/** How many of `v` are NaN or ±Infinity. */
function countNonFinite(v: Float32Array): number {
  let bad = 0;
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) bad++;
  return bad;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
