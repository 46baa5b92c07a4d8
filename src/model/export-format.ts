import { createHash } from 'node:crypto';
import * as arrow from 'apache-arrow';
import { LionctrError } from '../errors.ts';
import type { FeatureSchema } from '../features/schema.ts';
import type { ModelConfig } from './ctr-model.ts';
import type { Featurization } from './featurization.ts';
import { arrowItemType, decodeWeights, encodeWeights, isItemTypeOf, type WeightDtype } from './weight-dtype.ts';

/**
 * The export format (DESIGN.md "Exports and serving"):
 *
 *   <root>/<version>/manifest.json            ExportManifest
 *   <root>/<version>/dense/model.json         tower topology + tfjs weights manifest
 *   <root>/<version>/dense/weights.bin        float32 little-endian, variables in order
 *   <root>/<version>/dense/model.onnx         the same tower as ONNX (onnx-tower.ts)
 *   <root>/<version>/embeddings/<slot>.arrow  Arrow IPC file: id Uint64, vector FixedSizeList<T>[D+1]
 *                                             (vector[0] = linear weight, vector[1..D] = embedding;
 *                                             T Float32, Float16, or Uint16 of bfloat16 bits, as the
 *                                             manifest's weight_dtype says: weight-dtype.ts)
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
  /** Storage of the embedding tables' weights (weight-dtype.ts); absent: float32 (older exports). */
  weight_dtype?: WeightDtype;
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
 * One slot's rows as an Arrow table: ids [n] uint64 from (hi, lo), vectors [n, W] stored as
 * `dtype` (weight-dtype.ts: float32 as is, float16 or bfloat16 rounded to nearest even).
 * @param values [n, W] float32 weights, or their 16-bit patterns already encoded as `dtype`.
 */
export function embeddingsToArrow(
  hi: Uint32Array,
  lo: Uint32Array,
  values: Float32Array | Uint16Array,
  n: number,
  width: number,
  dtype: WeightDtype = 'float32',
): arrow.Table {
  const ids = idsToUint64(hi, lo, n);
  const item = arrowItemType(dtype);
  const flat = values.subarray(0, n * width);
  // one makeData for the three item types (its overloads are per type; the data fits the type)
  const child = arrow.makeData({
    type: item as arrow.Float32,
    length: n * width,
    nullCount: 0,
    data: (flat instanceof Float32Array ? encodeWeights(flat, dtype) : flat) as Float32Array,
  });
  const listType = new arrow.FixedSizeList(width, new arrow.Field('item', item as arrow.Float32, false));
  const vec = arrow.makeVector(arrow.makeData({ type: listType, length: n, nullCount: 0, child }));
  return new arrow.Table({ id: arrow.makeVector(ids), vector: vec });
}

/**
 * Reads one slot's Arrow table back into flat arrays, weights widened to float32 (exact).
 * @param dtype the storage the manifest's weight_dtype names (weight-dtype.ts).
 * @throws LionctrError LIONCTR_BAD_EXPORT when the columns are absent, of the wrong width, or
 *   their items are not stored as `dtype`.
 */
export function embeddingsFromArrow(
  table: arrow.Table,
  width: number,
  dtype: WeightDtype = 'float32',
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
    if (!isItemTypeOf(child.type, dtype))
      throw new LionctrError('LIONCTR_BAD_EXPORT', `embedding vectors hold ${child.type}, not ${dtype} weights`);
    const vals = (child.values as Float32Array | Uint16Array).subarray(
      child.offset + chunk.offset * width,
      child.offset + (chunk.offset + chunk.length) * width,
    );
    decodeWeights(vals, dtype, values.subarray(o, o + vals.length));
    o += vals.length;
  }
  return { hi, lo, values, n };
}
