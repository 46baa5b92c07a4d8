import { describe, expect, it } from 'vitest';
import { Featurizer } from '../../../src/features/featurizer.ts';
import { featureId64, SlotHasher } from '../../../src/features/hash.ts';
import { numericBucket, numericDense } from '../../../src/features/numeric.ts';
import { criteoSlots, validateSchema } from '../../../src/features/schema.ts';
import { rowsToRecordBatch } from '../../../src/ingest/arrow/record-batch-builder.ts';

// Expected ids computed independently with the Python `xxhash` package (XXH64):
//   seed = xxh64_intdigest(slot, 0); id = xxh64_intdigest(value, seed)
describe('feature hashing', () => {
  it('is XXH64(value, seed = XXH64(slot)) and stable across releases', () => {
    expect(featureId64('C7', '68fd1e64')).toBe(15368943909443903645n);
    expect(featureId64('C7', null)).toBe(6579222765776446120n); // missing = "\0"
    expect(featureId64('I1', 'b12')).toBe(3933947921796609477n);
    expect(featureId64('C7', 'é€')).toBe(17568691606941837284n); // UTF-8 bytes
  });

  it('SlotHasher gives the same halves with and without its cache', () => {
    const h = new SlotHasher('C7', 2); // tiny cache: forces clears
    const hi = new Uint32Array(4),
      lo = new Uint32Array(4);
    ['68fd1e64', 'x', '68fd1e64', null].forEach((v, i) => {
      h.hashInto(v, hi, lo, i);
    });
    const id = 15368943909443903645n;
    expect([hi[0], lo[0]]).toEqual([Number(id >> 32n), Number(id & 0xffffffffn)]);
    expect([hi[2], lo[2]]).toEqual([hi[0], lo[0]]);
    expect([hi[3], lo[3]]).toEqual([Number(6579222765776446120n >> 32n), Number(6579222765776446120n & 0xffffffffn)]);
  });

  it('separates slots: the same value in two slots gets two ids', () => {
    expect(featureId64('C1', 'abc')).not.toBe(featureId64('C2', 'abc'));
  });
});

describe('numeric transforms (Criteo winners recipe)', () => {
  it('buckets floor(ln(x)^2) above 2, keeps small values, null for missing', () => {
    expect(numericBucket(3)).toBe('b1'); // ln(3)^2 = 1.207
    expect(numericBucket(100)).toBe('b21'); // ln(100)^2 = 21.2
    expect(numericBucket(2)).toBe('=2');
    expect(numericBucket(-1)).toBe('=-1');
    expect(numericBucket(null)).toBeNull();
    expect(numericDense(Math.E - 1)).toBeCloseTo(1, 12);
    expect(numericDense(-5)).toBe(0);
  });
});

describe('Featurizer', () => {
  const schema = { ...criteoSlots(), embeddingDim: 4 };
  const fz = new Featurizer(schema);
  const rows = [
    {
      label: 1 as const,
      eventTimeMs: 1000,
      numeric: Array(13).fill(5),
      categorical: Array.from({ length: 26 }, (_, i) => `v${i}`),
    },
    { label: 0 as const, eventTimeMs: null, numeric: Array(13).fill(null), categorical: Array(26).fill(null) },
  ];

  it('training (Arrow) and serving (JSON) paths give identical ids and dense inputs', () => {
    const rb = rowsToRecordBatch(schema, rows, { offsets: [7, 8] });
    const a = fz.fromRecordBatch(rb);
    const inst = [
      Object.fromEntries([...schema.numeric.map((s) => [s, 5]), ...schema.categorical.map((s, i) => [s, `v${i}`])]),
      {},
    ];
    const b = fz.fromInstances(inst);
    expect(Array.from(a.idHi)).toEqual(Array.from(b.idHi));
    expect(Array.from(a.idLo)).toEqual(Array.from(b.idLo));
    expect(Array.from(a.dense)).toEqual(Array.from(b.dense));
    expect(Array.from(a.labels)).toEqual([1, 0]);
    expect(Array.from(a.offsets)).toEqual([7, 8]);
    expect(a.eventTimeMs[0]).toBe(1000);
    expect(Number.isNaN(a.eventTimeMs[1])).toBe(true);
    // slot C1 = "v0" -> XXH64 id; I1 (slot index 26) = bucket of 5
    const F = fz.numSlots;
    const c1 = featureId64('C1', 'v0'),
      i1 = featureId64('I1', numericBucket(5));
    expect(a.idHi[0] * 2 ** 32 + a.idLo[0]).toBe(Number(c1));
    expect((BigInt(a.idHi[26]) << 32n) | BigInt(a.idLo[26])).toBe(i1);
    expect((BigInt(a.idHi[F + 26]) << 32n) | BigInt(a.idLo[F + 26])).toBe(featureId64('I1', null));
  });

  it('rejects bad instances with the place named', () => {
    const bad = (x: unknown) => {
      try {
        fz.fromInstances(x);
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(bad({})).toMatch(/instances.*array/);
    expect(bad([])).toMatch(/empty/);
    expect(bad([{ C1: 'a' }, 3])).toMatch(/instances\[1\]/);
    expect(bad([{ C99: 'a' }])).toMatch(/unknown slot "C99".*instances\[0\]\.C99/);
    expect(bad([{ I1: 'abc' }])).toMatch(/instances\[0\]\.I1/);
    expect(bad([{ C1: { x: 1 } }])).toMatch(/instances\[0\]\.C1/);
    expect(bad([{ I1: '12', C1: 7 }])).toBe('no error');
  });
});

describe('schema validation', () => {
  const base = { numeric: ['I1'], categorical: ['C1', 'C2'], embeddingDim: 8 };
  it('names the key of a bad embedding dim, and a dims entry for a slot the schema lacks', () => {
    expect(() => validateSchema({ ...base, dims: { C2: 4, I1: 2 } })).not.toThrow();
    expect(() => validateSchema({ ...base, embeddingDim: 8192 })).toThrow(
      /the embedding dim must be an integer in 1\.\.1024, got 8192/,
    );
    expect(() => validateSchema({ ...base, dims: { C9: 4 } })).toThrow(
      /schema\.dims names slot "C9", which the schema does not have/,
    );
    expect(() => validateSchema({ ...base, dims: { C1: 0 } })).toThrow(
      /embedding dim of "C1" must be an integer in 1\.\.1024, got 0/,
    );
    expect(() => validateSchema({ ...base, embeddingDim: 0 })).toThrow(/\(at schema\.embeddingDim\)$/);
  });
});
