/**
 * Reads export versions (src/model/export-format.ts) back: the version LATEST names, and a
 * version directory loaded and verified into a serving model. Names read from disk are confined
 * to the exports root before any file is opened (export-paths.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { LionctrError } from '../errors.ts';
import { servingRulesOf } from './serving-rules.ts';
import { CtrModel } from './ctr-model.ts';
import { EmbeddingTable } from './embedding-table.ts';
import { Slicer, readHashed } from './sliced-read.ts';
import { EXPORT_FORMAT, type DenseModelJson, type ExportManifest } from './export-format.ts';
import { checkFileEntries, checkVersionName, confinedPath, insideChecker } from './export-paths.ts';
import { createServingTower, type ServingTowerOptions, servingTowerOptions } from './serving-tower.ts';
import { decodeWeights, isItemTypeOf, parseWeightDtype, type WeightDtype } from './weight-dtype.ts';

/**
 * Resolves a path to a version directory: a version dir (has manifest.json) as is, an
 * exports root through its LATEST file (a version name, digits only, whose directory is inside
 * the root once links are resolved).
 * @throws LionctrError LIONCTR_BAD_EXPORT when neither is found, or when LATEST names anything
 *   but a version inside the root (`../outside/1700000000000`, an absolute path, a link out).
 */
export async function resolveExportDir(path: string): Promise<string> {
  if (await exists(join(path, 'manifest.json'))) return path;
  const version = await readLatest(path);
  if (version === null)
    throw new LionctrError(
      'LIONCTR_BAD_EXPORT',
      `no export found: neither ${path}/manifest.json nor ${path}/LATEST exists`,
      { where: path },
    );
  const dir = confinedPath(path, version);
  await (await insideChecker(path))(dir).catch((e) => {
    if (e instanceof LionctrError) throw e;
    throw new LionctrError('LIONCTR_BAD_EXPORT', `LATEST names version ${version}, which is not there`, {
      where: dir,
      cause: e,
    });
  });
  return dir;
}

/**
 * Loads version `version` of the exports root `root` (loadExport), after checking its name
 * (digits only) and that its directory is inside the root once links are resolved.
 * @throws LionctrError LIONCTR_BAD_EXPORT as loadExport, or for a name or link outside the root.
 */
export async function loadVersion(
  root: string,
  version: string,
  tower: ServingTowerOptions = servingTowerOptions(),
): Promise<{ model: CtrModel; manifest: ExportManifest }> {
  const dir = confinedPath(root, version);
  // a missing directory fails in loadExport, naming manifest.json, as before
  if (await exists(dir)) await (await insideChecker(root))(dir);
  return loadExport(dir, tower);
}

/** The version LATEST names under an exports root, or null when there is none yet. */
export async function readLatest(root: string): Promise<string | null> {
  const s = await readFile(join(root, 'LATEST'), 'utf8').catch(() => null);
  if (s === null) return null;
  const v = s.trim();
  try {
    checkVersionName(v, join(root, 'LATEST'));
  } catch (e) {
    const msg = `LATEST must hold a version number, got ${JSON.stringify(v.slice(0, 40))}`;
    throw new LionctrError('LIONCTR_BAD_EXPORT', msg, { where: join(root, 'LATEST'), cause: e });
  }
  return v;
}

/**
 * Loads and verifies an export version directory into a serving CtrModel (variables not
 * trainable), with its serving tower (`tower`, default: configureServingTower's; see
 * serving-tower.ts), freed by model.dispose(). Every file's sha256 is checked against the manifest.
 *
 * Memory: files are read, verified, parsed and dropped one at a time, and each table is
 * built weights-only (RowStore 'none') at its row count plus an eighth (room for the new rows
 * of delta exports, which would otherwise cost a copy of the table in the turn that applies
 * the first delta), straight from the Arrow buffers; so a loaded version holds about
 * 1.125 (4(D + 1) + 8) + 12 * mapSlots bytes a row (mapSlots = nextPow2(2.25 * rows) / rows,
 * 2.25 to 4.5), and a load needs, beyond that, one slot's file at a time. The work is done in
 * slices of about 10 ms (sliced-read.ts), so that a server loading a new version keeps
 * answering requests meanwhile.
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
  // every path is checked before it is opened: names (export-paths.ts), then links
  const inside = await insideChecker(dir).catch((e) => fail('cannot read manifest', 'manifest.json', e));
  const read = async (rel: string) => {
    await inside(join(dir, rel));
    return readFile(join(dir, rel), 'utf8');
  };
  const manifest = JSON.parse(
    await read('manifest.json').catch((e) =>
      e instanceof LionctrError ? Promise.reject(e) : fail('cannot read manifest', 'manifest.json', e),
    ),
  ) as ExportManifest;
  if (manifest.format !== EXPORT_FORMAT)
    fail(`unknown export format ${JSON.stringify(manifest.format)}`, 'manifest.json');
  checkFileEntries(manifest.files ?? {}, join(dir, 'manifest.json'));
  const sums = manifest.files ?? {};
  const unread = new Set(Object.keys(sums));
  const slicer = new Slicer();
  // each file is read once, verified against the manifest's sha256, then parsed and dropped
  const file = async (rel: string): Promise<Buffer> => {
    if (!Object.hasOwn(sums, rel)) fail('file not listed in the manifest', rel);
    const { bytes, sha256 } = await inside(join(dir, rel))
      .then(() => readHashed(join(dir, rel), slicer))
      .catch((e) => (e instanceof LionctrError ? Promise.reject(e) : fail('file missing', rel, e)));
    if (sha256 !== sums[rel]) fail('checksum mismatch (corrupt or partial file)', rel);
    unread.delete(rel);
    return bytes;
  };
  const dense = JSON.parse((await file('dense/model.json')).toString('utf8')) as DenseModelJson;
  const wbuf = await file('dense/weights.bin');
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
  const bad = countNonFinite(all.subarray(0, o));
  if (bad) fail(`${bad} of ${o} weights are NaN or infinite (a diverged model)`, 'dense/weights.bin');
  const dtype = parseWeightDtype(manifest.weight_dtype, join(dir, 'manifest.json'));
  const { hidden, initStd, seed, fm } = manifest.model;
  const model = new CtrModel(manifest.schema, { hidden, initStd, seed, fm }, { towerValues, trainable: false });
  model.rules = servingRulesOf(manifest);
  try {
    if (model.inputDim !== dense.modelTopology.input_dim)
      fail(
        `tower input ${dense.modelTopology.input_dim} does not match the schema (${model.inputDim})`,
        'dense/model.json',
      );
    for (let f = 0; f < model.tables.length; f++) {
      const { slot, dim } = model.tables[f];
      const rel = `embeddings/${slot}.arrow`;
      let table: arrow.Table;
      try {
        table = arrow.tableFromIPC(await file(rel));
      } catch (e) {
        if (e instanceof LionctrError) throw e;
        fail(`not a valid embedding table: ${(e as Error).message}`, rel, e);
      }
      // weights only, the file's rows and an eighth more for deltas: a served table is never trained
      const capacity = table!.numRows + (table!.numRows >> 3);
      const t = new EmbeddingTable(slot, dim, { initStd, initialCapacity: capacity, momentumDtype: 'none' });
      model.tables[f] = t;
      await fillTable(t, table!, dtype, slicer, (msg) => fail(msg, rel));
    }
    // files a newer writer lists that this reader does not use are still verified
    for (const rel of [...unread]) await file(rel);
    model.servingTower = await createServingTower(model.tower, tower);
  } catch (e) {
    model.dispose(); // the tower's tensors are not garbage-collected
    throw e;
  }
  return { model, manifest };
}

/** Rows put between two checks of the slice time (well under SLICE_MS of work). */
const ROWS_PER_SLICE = 4096;

/**
 * Puts the rows of one slot's Arrow table (id Uint64, vector FixedSizeList<T>[W], T as `dtype`
 * is stored: weight-dtype.ts) into `t`, reading the record batches in place (float32 vectors
 * not copied; 16-bit ones widened a slice at a time), pausing through `slicer`.
 * @param fail throws with the message (a LIONCTR_BAD_EXPORT naming the file).
 */
async function fillTable(
  t: EmbeddingTable,
  table: arrow.Table,
  dtype: WeightDtype,
  slicer: Slicer,
  fail: (msg: string) => never,
): Promise<void> {
  const W = t.width;
  const wide = dtype === 'float32' ? null : new Float32Array(ROWS_PER_SLICE * W);
  for (const b of table.batches) {
    const ids = b.getChild('id')?.data[0],
      vec = b.getChild('vector')?.data[0];
    if (!ids || !vec) fail('not a valid embedding table: it needs columns "id" and "vector"');
    const type = vec!.type as arrow.DataType;
    if (!(type instanceof arrow.FixedSizeList) || type.listSize !== W)
      fail(`not a valid embedding table: vectors are not of width ${W}`);
    const child = vec!.children[0];
    if (!(ids!.values instanceof BigUint64Array) || !child || !isItemTypeOf(child.type, dtype))
      fail(`not a valid embedding table: id must be uint64 and vector items ${dtype} (the manifest's weight_dtype)`);
    if (ids!.nullCount || vec!.nullCount) fail('not a valid embedding table: null ids or vectors');
    const n = b.numRows,
      idv = ids!.values as BigUint64Array,
      // uint64 little-endian as (lo, hi) uint32 pairs: no BigInt per row
      id32 = new Uint32Array(idv.buffer, idv.byteOffset + ids!.offset * 8, 2 * n),
      v0 = child.offset + vec!.offset * W,
      stored = (child.values as Float32Array | Uint16Array).subarray(v0, v0 + n * W);
    if (stored.length < n * W) fail('not a valid embedding table: fewer vector values than rows');
    let bad = 0;
    for (let i0 = 0; i0 < n; i0 += ROWS_PER_SLICE) {
      const i1 = Math.min(n, i0 + ROWS_PER_SLICE);
      const part = stored.subarray(i0 * W, i1 * W);
      const vals = wide ? decodeWeights(part, dtype, wide.subarray(0, part.length)) : (part as Float32Array);
      bad += countNonFinite(vals);
      for (let i = i0; i < i1; i++) t.put(id32[2 * i + 1], id32[2 * i], vals.subarray((i - i0) * W, (i - i0 + 1) * W));
      await slicer.pause();
    }
    // the table is dropped with the model when this throws
    if (bad) fail(`${bad} of ${stored.length} weights are NaN or infinite (a diverged model)`);
  }
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
