/**
 * The served version read back from disk, only the rows a few batches need: for the publish
 * gate's first decision after a restart (src/train/publish-gate.ts), when the version being
 * served was exported by an earlier run of the same checkpoint lineage and this run has no
 * copy-on-write snapshot of it yet. One slot's embedding file is read at a time and only the
 * rows whose ids occur in the batches are kept, so the memory it takes is that of the largest
 * slot's file for a moment, not a second model.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { LionctrError } from '../errors.ts';
import type { FeatureBatch } from '../features/feature-batch.ts';
import { CtrModel } from '../model/ctr-model.ts';
import { EmbeddingTable } from '../model/embedding-table.ts';
import { EXPORT_FORMAT, embeddingsFromArrow, type ExportManifest, sha256 } from '../model/export-format.ts';
import { parseWeightDtype } from '../model/weight-dtype.ts';

/**
 * Loads export `version` under `root` as a serving model (not trainable) holding the tower and,
 * per slot, only the rows of the ids in `batches`: its predictions on those batches are
 * serving's. `like` is the model being trained: the export must be of the same schema and
 * model settings. Dispose the result.
 * @throws LionctrError LIONCTR_BAD_EXPORT when a file is missing or corrupt (sha256), or the
 *   export is of another model (schema, dims, tower).
 */
export async function loadServedRows(
  root: string,
  version: string,
  like: CtrModel,
  batches: FeatureBatch[],
): Promise<CtrModel> {
  const dir = join(root, version);
  const fail = (msg: string, where: string): never => {
    throw new LionctrError('LIONCTR_BAD_EXPORT', msg, { where: join(dir, where) });
  };
  const text = await readFile(join(dir, 'manifest.json'), 'utf8').catch(() => fail('cannot read', 'manifest.json'));
  const manifest = JSON.parse(text) as ExportManifest;
  const read = async (rel: string): Promise<Buffer> => {
    const buf = await readFile(join(dir, rel)).catch(() => fail('file missing', rel));
    if (sha256(buf) !== manifest.files?.[rel]) fail('checksum mismatch (corrupt or partial file)', rel);
    return buf;
  };
  const same =
    manifest.format === EXPORT_FORMAT &&
    JSON.stringify(manifest.schema) === JSON.stringify(like.schema) &&
    JSON.stringify(manifest.model.hidden) === JSON.stringify(like.config.hidden) &&
    !!manifest.model.fm === !!like.config.fm &&
    manifest.model.input_dim === like.inputDim;
  if (!same) fail('the served version is of another model (schema or model settings)', 'manifest.json');
  const dtype = parseWeightDtype(manifest.weight_dtype, join(dir, 'manifest.json'));
  const wbuf = await read('dense/weights.bin');
  const all = new Float32Array(wbuf.buffer.slice(wbuf.byteOffset, wbuf.byteOffset + wbuf.byteLength));
  const towerValues: Float32Array[] = [];
  let o = 0;
  for (const v of like.tower.vars) {
    if (o + v.size > all.length) fail('weights.bin is shorter than the tower', 'dense/weights.bin');
    towerValues.push(all.subarray(o, o + v.size));
    o += v.size;
  }
  const model = new CtrModel(like.schema, like.config, { towerValues, trainable: false });
  try {
    const F = like.slots.length;
    for (let f = 0; f < F; f++) {
      const t = model.tables[f];
      // the ids wanted, as a small table used as a set
      const want = new EmbeddingTable(t.slot, 0);
      for (const b of batches) for (let k = f; k < b.idHi.length; k += F) want.findOrAdmit(b.idHi[k], b.idLo[k]);
      const rel = `embeddings/${t.slot}.arrow`;
      const { hi, lo, values, n } = embeddingsFromArrow(arrow.tableFromIPC(await read(rel)), t.width, dtype);
      for (let i = 0; i < n; i++)
        if (want.find(hi[i], lo[i]) >= 0) t.put(hi[i], lo[i], values.subarray(i * t.width, (i + 1) * t.width));
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
