/**
 * The featurizer's cached numeric buckets (Featurizer.bucketInto) give the ids of the plain rule,
 * XXH64(numericBucket(x), seed(slot)) (featureId64), for every kind of value, on first sight and
 * from the cache, from JSON instances and from Arrow batches alike.
 */
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { Featurizer } from '../../../src/features/featurizer.ts';
import { featureId64 } from '../../../src/features/hash.ts';
import { numericBucket } from '../../../src/features/numeric.ts';

const schema = { numeric: ['I1', 'I2'], categorical: ['C1'], embeddingDim: 2 };
const values = [null, -5, -0.5, 0, 1, 1.5, 2, 2.0001, 3, 7.5, 100, 1e4, 123456789, 1e12, 1e200, 8.2e13, 2.5, 5e-324];

const ids = (hi: Uint32Array, lo: Uint32Array, i: number) => (BigInt(hi[i]) << 32n) | BigInt(lo[i]);

describe('numeric bucket ids', () => {
  it('equal the plain rule for JSON instances, first sight and cached', () => {
    const f = new Featurizer(schema);
    for (let pass = 0; pass < 2; pass++) {
      const batch = f.fromInstances(values.map((v, i) => ({ I1: v, I2: values[values.length - 1 - i], C1: 'a' })));
      values.forEach((v, i) => {
        expect(ids(batch.idHi, batch.idLo, i * 3 + 1), `I1=${v}`).toBe(featureId64('I1', numericBucket(v)));
        const w = values[values.length - 1 - i];
        expect(ids(batch.idHi, batch.idLo, i * 3 + 2), `I2=${w}`).toBe(featureId64('I2', numericBucket(w)));
      });
    }
  });

  it('equal the plain rule for Arrow batches (the training path)', () => {
    const f = new Featurizer(schema);
    const finite = values.map((v) => (v === null ? null : v));
    const table = arrow.tableFromArrays({
      label: Int8Array.from(values.map(() => 0)),
      I1: Float64Array.from(finite.map((v) => v ?? Number.NaN)),
      I2: Float64Array.from(finite.map(() => 42)),
      C1: finite.map(() => 'a'),
    });
    for (const rb of table.batches) {
      const batch = f.fromRecordBatch(rb);
      finite.forEach((v, i) => {
        expect(ids(batch.idHi, batch.idLo, i * 3 + 1), `I1=${v}`).toBe(
          featureId64('I1', numericBucket(v ?? Number.NaN)),
        );
        expect(ids(batch.idHi, batch.idLo, i * 3 + 2)).toBe(featureId64('I2', numericBucket(42)));
      });
    }
  });
});
