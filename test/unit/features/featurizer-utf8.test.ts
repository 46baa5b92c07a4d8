/**
 * Categorical ids from Arrow Utf8 columns, looked up by the values' bytes (Featurizer.utf8Ids,
 * src/features/byte-ids.ts), equal the plain rule XXH64(utf8(value), seed(slot)) (featureId64;
 * null and '' are missing, the ids a JSON instance gets) for ASCII, multi-byte and astral text, a
 * leading U+FEFF (which Arrow's decoder dropped, once: another id than serving's), nulls, empty
 * strings and repeats (first sight and from the cache), in a batch and in a slice of one (a
 * column whose data starts at an offset); and ByteIds keeps exact ids through growth and when
 * it empties itself at its bounds.
 */
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ByteIds, fnv1aBytes } from '../../../src/features/byte-ids.ts';
import { Featurizer } from '../../../src/features/featurizer.ts';
import { featureId64 } from '../../../src/features/hash.ts';

const schema = { numeric: ['I1'], categorical: ['C1', 'C2'], embeddingDim: 2 };
const texts = ['a', '68fd1e64', 'é', '日本語', '🙂x', '\uFEFFbom', '', 'a ', ' a', 'ab', 'b', '0', 'null'];
const ids = (hi: Uint32Array, lo: Uint32Array, i: number) => (BigInt(hi[i]) << 32n) | BigInt(lo[i]);
const rule = (slot: string, v: string | null) => featureId64(slot, v === null || v === '' ? null : v);

/** A batch of n rows: C1 cycles through texts and null, C2 reads them backwards. */
function batchOf(n: number): { rb: arrow.RecordBatch; c1: (string | null)[]; c2: (string | null)[] } {
  const pool = [...texts, null];
  const c1 = Array.from({ length: n }, (_, i) => pool[i % pool.length]);
  const c2 = Array.from({ length: n }, (_, i) => pool[(pool.length * 7 - i) % pool.length]);
  const table = new arrow.Table({
    label: arrow.makeVector(Int8Array.from(c1.map(() => 0))),
    I1: arrow.makeVector(Float64Array.from(c1.map((_, i) => i))),
    C1: arrow.vectorFromArray(c1, new arrow.Utf8()),
    C2: arrow.vectorFromArray(c2, new arrow.Utf8()),
  });
  return { rb: table.batches[0], c1, c2 };
}

describe('categorical ids from Arrow Utf8 columns', () => {
  it('equal the plain rule, first sight and cached, in a batch and in a slice of one', () => {
    const f = new Featurizer(schema);
    const { rb, c1, c2 } = batchOf(60);
    expect(rb.getChild('C1')!.type).toBeInstanceOf(arrow.Utf8);
    for (let pass = 0; pass < 2; pass++) {
      const out = f.fromRecordBatch(rb);
      for (let b = 0; b < 60; b++) {
        expect(ids(out.idHi, out.idLo, b * 3), `C1=${JSON.stringify(c1[b])}`).toBe(rule('C1', c1[b]));
        expect(ids(out.idHi, out.idLo, b * 3 + 1), `C2=${JSON.stringify(c2[b])}`).toBe(rule('C2', c2[b]));
      }
    }
    const part = rb.slice(17, 29);
    expect(part.getChild('C1')!.data[0].offset).toBe(17);
    const out = new Featurizer(schema).fromRecordBatch(part);
    for (let b = 0; b < 12; b++) {
      expect(ids(out.idHi, out.idLo, b * 3)).toBe(rule('C1', c1[17 + b]));
      expect(ids(out.idHi, out.idLo, b * 3 + 1)).toBe(rule('C2', c2[17 + b]));
    }
  });
});

describe('ByteIds', () => {
  const enc = new TextEncoder();
  const keyBytes = (i: number) => enc.encode(`key-${i}-${'x'.repeat(i % 7)}`);

  it('finds every stored value with its id through growth, and empties itself at its value bound', () => {
    const cache = new ByteIds(4096, 1 << 20);
    for (let i = 0; i < 3000; i++) {
      const k = keyBytes(i);
      cache.add(k, 0, k.length, fnv1aBytes(k, 0, k.length), i, ~i >>> 0);
    }
    for (let i = 0; i < 3000; i++) {
      const k = keyBytes(i);
      const e = cache.find(k, 0, k.length, fnv1aBytes(k, 0, k.length));
      expect([cache.hi[e], cache.lo[e]]).toEqual([i, ~i >>> 0]);
    }
    const other = enc.encode('key-1-'); // a prefix of a stored key: not found
    expect(cache.find(other, 0, other.length, fnv1aBytes(other, 0, other.length))).toBe(-1);
    const small = new ByteIds(4, 1 << 20);
    for (let i = 0; i < 5; i++) {
      const k = keyBytes(i);
      small.add(k, 0, k.length, fnv1aBytes(k, 0, k.length), i, i);
    }
    expect(small.size).toBe(1); // emptied when the 5th came, then it was stored
    const k0 = keyBytes(0),
      k4 = keyBytes(4);
    expect(small.find(k0, 0, k0.length, fnv1aBytes(k0, 0, k0.length))).toBe(-1);
    expect(small.hi[small.find(k4, 0, k4.length, fnv1aBytes(k4, 0, k4.length))]).toBe(4);
  });

  it('empties itself at its byte bound, and looks values up inside a larger buffer', () => {
    const cache = new ByteIds(1024, 32);
    const buf = enc.encode('__abcdefghij__abcdefghij__abcdefghij__abcdefghij__');
    cache.add(buf, 2, 12, fnv1aBytes(buf, 2, 12), 7, 7);
    expect(cache.find(buf, 14, 24, fnv1aBytes(buf, 14, 24))).toBe(0); // same bytes elsewhere
    cache.add(buf, 3, 13, fnv1aBytes(buf, 3, 13), 8, 8);
    cache.add(buf, 4, 14, fnv1aBytes(buf, 4, 14), 9, 9);
    expect(cache.size).toBe(3);
    cache.add(buf, 5, 15, fnv1aBytes(buf, 5, 15), 10, 10); // 40 bytes > 32: emptied first
    expect(cache.size).toBe(1);
    expect(cache.find(buf, 2, 12, fnv1aBytes(buf, 2, 12))).toBe(-1);
  });
});
