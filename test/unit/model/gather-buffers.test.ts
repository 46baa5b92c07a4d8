/**
 * CtrModel.gather into reused arrays (GatherBuffers, as the train step gathers): each batch's
 * rowIdx, x and wide equal, bit for bit, those of a gather into fresh arrays, whatever the
 * previous batch left in the arrays (a larger batch, a batch with other rows), and the arrays
 * are only reallocated when a batch outgrows them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { FeatureBatch } from '../../../src/features/feature-batch.ts';
import type { FeatureSchema } from '../../../src/features/schema.ts';
import { selectBackend } from '../../../src/model/backend.ts';
import { CtrModel } from '../../../src/model/ctr-model.ts';
import { GatherBuffers } from '../../../src/model/gather-buffers.ts';

/** Slots a, b and n (n also a numeric input): F = 3, N = 1. */
const schema: FeatureSchema = { categorical: ['a', 'b'], numeric: ['n'], embeddingDim: 4 };

/** A batch of B examples whose ids are drawn from `vocab` per slot (seeded). */
function batchOf(B: number, vocab: number, seed: number): FeatureBatch {
  let s = seed;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s;
  };
  const F = 3;
  return {
    size: B,
    labels: new Float32Array(B),
    weights: new Float32Array(B).fill(1),
    dense: new Float32Array(B).map(() => (rnd() % 1000) / 100),
    idHi: new Uint32Array(B * F).map(() => rnd() % 7),
    idLo: new Uint32Array(B * F).map(() => rnd() % vocab),
    eventTimeMs: new Float64Array(B).fill(Number.NaN),
    partitions: new Int32Array(B),
    offsets: new Float64Array(B),
  };
}

const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('CtrModel.gather into GatherBuffers', () => {
  beforeAll(async () => {
    await selectBackend('auto');
  });
  it('equals a gather into fresh arrays over batches of 64, 16 and 64 examples, serving unknown ids', () => {
    const cfg = { hidden: [8], initStd: 0.1, seed: 3 };
    const reused = new CtrModel(schema, cfg),
      fresh = new CtrModel(schema, cfg);
    const bufs = new GatherBuffers();
    const seen: number[] = [];
    for (const [B, seed, admit] of [
      [64, 1, true],
      [16, 2, true],
      [64, 3, true],
      [40, 4, false],
    ] as const) {
      const batch = batchOf(B, 50, seed);
      const a = reused.gather(batch, admit, undefined, bufs),
        b = fresh.gather(batch, admit);
      expect(bytes(a.rowIdx).equals(bytes(b.rowIdx))).toBe(true);
      expect(bytes(a.x).equals(bytes(b.x))).toBe(true);
      expect(bytes(a.wide).equals(bytes(b.wide))).toBe(true);
      expect(a.x.length).toBe(B * reused.inputDim);
      seen.push(bufs.bytes);
      if (!admit) expect(Array.from(a.rowIdx).some((r) => r < 0)).toBe(true);
    }
    // allocated once, at the first (largest) batch
    expect(new Set(seen).size).toBe(1);
    reused.dispose();
    fresh.dispose();
  });
});
