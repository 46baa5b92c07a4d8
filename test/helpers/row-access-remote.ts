/**
 * @module A test-only "remote" row store behind RowAccess (src/model/row-access.ts): rows in a
 * Map keyed by (slot, id), each a copy of its block's bytes (as a network store would hold
 * them), answered after an async boundary (setImmediate: other work may run between a lookup
 * and its answer, as over a network). Counts the calls and the bytes moved. Also the synthetic
 * batches the row-store tests train on.
 */
import type { FeatureBatch } from '../../src/features/feature-batch.ts';
import { Featurizer } from '../../src/features/featurizer.ts';
import type { FeatureSchema } from '../../src/features/schema.ts';
import { createSyntheticSource } from '../../src/ingest/synthetic-source.ts';
import type { RowAccess, RowIds } from '../../src/model/row-access.ts';

/** An in-memory RowAccess that answers asynchronously. */
export class MapRowAccess implements RowAccess {
  /** `${slot}/${hi}:${lo}` -> the row's block words (a copy). */
  readonly rows = new Map<string, Int32Array>();
  calls = { lookup: 0, update: 0 };
  bytes = { read: 0, written: 0 };

  /** @param stride words per row block (the model's layout: layoutOf). */
  constructor(private readonly stride: (slot: string) => number) {}

  static key(slot: string, hi: number, lo: number): string {
    return `${slot}/${hi}:${lo}`;
  }

  async lookup(slot: string, ids: RowIds, out: Int32Array, found: Uint8Array): Promise<void> {
    await new Promise((r) => setImmediate(r));
    this.calls.lookup++;
    const S = this.stride(slot);
    for (let i = 0; i < ids.n; i++) {
      const row = this.rows.get(MapRowAccess.key(slot, ids.hi[i], ids.lo[i]));
      found[i] = row ? 1 : 0;
      if (row) {
        out.set(row, i * S);
        this.bytes.read += row.byteLength;
      }
    }
  }

  async update(slot: string, ids: RowIds, blocks: Int32Array): Promise<void> {
    await new Promise((r) => setImmediate(r));
    this.calls.update++;
    const S = this.stride(slot);
    for (let i = 0; i < ids.n; i++) {
      this.rows.set(MapRowAccess.key(slot, ids.hi[i], ids.lo[i]), blocks.slice(i * S, (i + 1) * S));
      this.bytes.written += S * 4;
    }
  }
}

/** `n` featurized batches of `size` examples of the synthetic stream (seed 3) under `schema`. */
export async function syntheticBatches(schema: FeatureSchema, n: number, size: number): Promise<FeatureBatch[]> {
  const fz = new Featurizer(schema),
    out: FeatureBatch[] = [];
  for await (const rb of createSyntheticSource({ seed: 3, limit: n * size }).batches({ batchSize: size }))
    out.push(fz.fromRecordBatch(rb));
  return out;
}
