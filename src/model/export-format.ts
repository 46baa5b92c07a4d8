import { createHash } from 'node:crypto';
import * as arrow from 'apache-arrow';
import { LionctrError } from '../errors.ts';
import type { FeatureSchema } from '../features/schema.ts';
import type { ModelConfig } from './ctr-model.ts';
import type { Featurization } from './featurization.ts';

/**
 * The export format (DESIGN.md "Exports and serving"):
 *
 *   <root>/<version>/manifest.json            ExportManifest
 *   <root>/<version>/dense/model.json         tower topology + tfjs weights manifest
 *   <root>/<version>/dense/weights.bin        float32 little-endian, variables in order
 *   <root>/<version>/dense/model.onnx         the same tower as ONNX (onnx-tower.ts)
 *   <root>/<version>/embeddings/<slot>.arrow  Arrow IPC file: id Uint64, vector FixedSizeList<Float32>[D+1]
 *                                             (vector[0] = linear weight, vector[1..D] = embedding)
 *   <root>/LATEST                             the version to serve, replaced atomically
 *
 * Versions are decimal integers (ms since epoch at export, strictly increasing per root),
 * as TF Serving expects of version directories; the keys of a manifest's `files` are relative
 * paths inside their version. Readers refuse anything else before opening a file
 * (export-paths.ts). The manifest's `featurization`
 * (featurization.ts) states how an instance becomes a prediction, for readers without lionctr.
 */
export const EXPORT_FORMAT = 'lionctr-export/1';

export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  version: string;
  /** Training step at export. */
  step: number;
  /** Examples trained at export. */
  examples: number;
  created_at: string;
  /** Next source offset to read, per "source/partition". */
  source_offsets: Record<string, number>;
  /** Largest event time trained so far, ms since epoch (null when the source has none). */
  event_time_watermark_ms: number | null;
  schema: FeatureSchema;
  model: ModelConfig & { input_dim: number; slots: string[]; dims: number[] };
  /** How an instance becomes a prediction (absent in exports written before it existed). */
  featurization?: Featurization;
  /** Progressive metrics at export time. */
  metrics: Record<string, number | null>;
  /** sha256 (hex) of every file of the version, by path relative to the version dir. */
  files: Record<string, string>;
}

/** tfjs-style dense/model.json. */
export interface DenseModelJson {
  format: 'lionctr-dense-tower';
  modelTopology: { input_dim: number; hidden: number[]; activation: 'relu' };
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: 'float32' }[] }[];
}

/** sha256 (hex) of bytes, as the manifest records every file. */
export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The uint64 ids [n] of (hi, lo) pairs: id = hi * 2^32 + lo, as the `id` columns hold them. */
export function idsToUint64(hi: Uint32Array, lo: Uint32Array, n: number): BigUint64Array {
  const ids = new BigUint64Array(n);
  for (let i = 0; i < n; i++) ids[i] = (BigInt(hi[i]) << 32n) | BigInt(lo[i]);
  return ids;
}

/** An `id` column's [n] uint64 values split into (hi, lo) uint32 halves, chunk by chunk. */
export function idsFromArrow(col: arrow.Vector, n: number): { hi: Uint32Array; lo: Uint32Array } {
  const hi = new Uint32Array(n),
    lo = new Uint32Array(n);
  let r = 0;
  for (const chunk of col.data) {
    const ids = chunk.values as BigUint64Array;
    for (let i = 0; i < chunk.length; i++, r++) {
      const id = ids[chunk.offset + i];
      hi[r] = Number(id >> 32n);
      lo[r] = Number(id & 0xffffffffn);
    }
  }
  return { hi, lo };
}

/**
 * One slot's rows as an Arrow table: ids [n] uint64 from (hi, lo), vectors [n, W] float32.
 */
export function embeddingsToArrow(
  hi: Uint32Array,
  lo: Uint32Array,
  values: Float32Array,
  n: number,
  width: number,
): arrow.Table {
  const ids = idsToUint64(hi, lo, n);
  const listType = new arrow.FixedSizeList(width, new arrow.Field('item', new arrow.Float32(), false));
  const child = arrow.makeData({
    type: new arrow.Float32(),
    length: n * width,
    nullCount: 0,
    data: values.subarray(0, n * width),
  });
  const vec = arrow.makeVector(arrow.makeData({ type: listType, length: n, nullCount: 0, child }));
  return new arrow.Table({ id: arrow.makeVector(ids), vector: vec });
}

/**
 * Reads one slot's Arrow table back into flat arrays.
 * @throws LionctrError LIONCTR_BAD_EXPORT when the columns are absent or of the wrong width.
 */
export function embeddingsFromArrow(
  table: arrow.Table,
  width: number,
): { hi: Uint32Array; lo: Uint32Array; values: Float32Array; n: number } {
  const n = table.numRows;
  const idCol = table.getChild('id'),
    vecCol = table.getChild('vector');
  if (!idCol || !vecCol) {
    throw new LionctrError('LIONCTR_BAD_EXPORT', 'embedding table needs columns "id" and "vector"');
  }
  const { hi, lo } = idsFromArrow(idCol, n);
  const values = new Float32Array(n * width);
  let o = 0;
  for (const chunk of vecCol.data) {
    const t = chunk.type as arrow.FixedSizeList;
    if (t.listSize !== width) {
      throw new LionctrError('LIONCTR_BAD_EXPORT', `embedding vectors have width ${t.listSize}, expected ${width}`);
    }
    const child = chunk.children[0];
    const vals = (child.values as Float32Array).subarray(
      child.offset + chunk.offset * width,
      child.offset + (chunk.offset + chunk.length) * width,
    );
    values.set(vals, o);
    o += vals.length;
  }
  return { hi, lo, values, n };
}
