/**
 * The featurization stated in export manifests (src/features/featurization-spec.ts) against the
 * functions that featurize: its bucket rule, applied as written, gives numericBucket's token on
 * both sides of the threshold; its hash rule (slot seed, missing token), applied with xxhash-wasm
 * directly, gives featureId64's ids; its slots are the embedding slots in model order; and it is
 * plain JSON (it survives JSON.stringify, no BigInt).
 */
import { describe, expect, it } from 'vitest';
import xxhash from 'xxhash-wasm';
import { describeFeaturization } from '../../../src/features/featurization-spec.ts';
import { featureId64 } from '../../../src/features/hash.ts';
import { numericBucket } from '../../../src/features/numeric.ts';
import { criteoSlots, embeddingSlots } from '../../../src/features/schema.ts';

const schema = { ...criteoSlots(), embeddingDim: 16 };

describe('featurization spec', () => {
  const spec = describeFeaturization(schema);

  it('is plain JSON listing the embedding slots in model order with their types', () => {
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
    expect(spec.slots.map((s) => s.name)).toEqual(embeddingSlots(schema));
    expect(spec.slots.filter((s) => s.type === 'numeric').map((s) => s.name)).toEqual(schema.numeric);
  });

  it("its bucket rule, applied as stated, gives numericBucket's tokens", () => {
    const t = spec.numeric.token;
    const stated = (x: number) =>
      x > t.threshold ? `${t.log_prefix}${Math.floor(Math.log(x) ** 2)}` : `${t.raw_prefix}${String(x)}`;
    for (const x of [-7, -0, 0, 0.5, 1, 2, 2.0000001, 3, 7.38905609893065, 100, 12345, 1e21, 1e-7])
      expect(stated(x)).toBe(numericBucket(x));
  });

  it("its hash rule, applied with xxhash directly, gives featureId64's ids (missing included)", async () => {
    const h = await xxhash();
    for (const slot of spec.slots) {
      const seed = h.h64(slot.name, BigInt(spec.hash.slot_seed_seed));
      expect(seed.toString()).toBe(slot.seed);
      expect(h.h64('abc', seed)).toBe(featureId64(slot.name, 'abc'));
      expect(h.h64(spec.hash.missing_token, seed)).toBe(featureId64(slot.name, null));
    }
  });
});
