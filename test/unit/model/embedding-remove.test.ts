import { describe, expect, it } from 'vitest';
import { EmbeddingTable } from '../../../src/model/embedding-table.ts';

/** A small xorshift PRNG (uint32). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

/** Mismatches of `t` against the reference map id -> column 0 (every id found with its values, `absent` not found). */
function mismatches(t: EmbeddingTable, ref: Map<string, number>, absent: string[]): string[] {
  const bad: string[] = [];
  if (t.size !== ref.size) bad.push(`size ${t.size}, want ${ref.size}`);
  for (const [key, v] of ref) {
    const [hi, lo] = key.split(':').map(Number);
    const r = t.find(hi, lo);
    if (r < 0 || r >= t.size) bad.push(`${key} at row ${r}`);
    else if (t.rows.getWeights(r)[0] !== v || t.idHi(r) !== hi || t.idLo(r) !== lo) bad.push(`${key} row ${r} differs`);
  }
  for (const key of absent) {
    const [hi, lo] = key.split(':').map(Number);
    if (t.find(hi, lo) !== -1) bad.push(`${key} removed but found`);
  }
  return bad;
}

describe('EmbeddingTable.remove (tombstones of delta exports)', () => {
  it('keeps every other id findable with its values through random puts and removes (a Map as reference)', () => {
    const next = rng(7);
    const t = new EmbeddingTable('C1', 3, { initialCapacity: 16 });
    const ref = new Map<string, number>();
    const removed: string[] = [];
    // few distinct ids (small hi/lo ranges) so that probes collide and removes shift chains back
    const id = () => [next() % 4, next() % 3000] as const;
    for (let op = 0; op < 20000; op++) {
      const [hi, lo] = id();
      const key = `${hi}:${lo}`;
      if (next() % 3 === 0) {
        if (t.remove(hi, lo) !== ref.has(key)) throw new Error(`remove(${key}) disagrees with the reference`);
        if (ref.delete(key)) removed.push(key);
      } else {
        const v = (next() % 1000) + 1;
        t.put(hi, lo, Float32Array.of(v, 0, 0, 0));
        ref.set(key, v);
      }
    }
    expect(removed.length).toBeGreaterThan(1000);
    const absent = removed.filter((k) => !ref.has(k));
    expect(mismatches(t, ref, absent).slice(0, 5)).toEqual([]);
  });

  it('removing the last row and every row leaves an empty table that admits again', () => {
    const t = new EmbeddingTable('C1', 1, { initialCapacity: 16 });
    for (let i = 0; i < 40; i++) t.put(0, i, Float32Array.of(i, 1));
    expect(t.remove(0, 39)).toBe(true);
    expect(t.remove(0, 39)).toBe(false);
    for (let i = 0; i < 39; i++) expect(t.remove(0, i)).toBe(true);
    expect(t.size).toBe(0);
    t.put(5, 5, Float32Array.of(2, 3));
    expect(t.rows.getWeights(t.find(5, 5))).toEqual(Float32Array.of(2, 3));
  });
});

describe('EmbeddingTable.clone', () => {
  it('is a deep copy: changes to the copy leave the original as it was', () => {
    const t = new EmbeddingTable('C1', 2, { initialCapacity: 16 });
    for (let i = 0; i < 100; i++) t.put(i, i * 3, Float32Array.of(i, i + 0.5, -i));
    const c = t.clone();
    expect(c.size).toBe(100);
    expect(c.rows.getWeights(c.find(7, 21))).toEqual(Float32Array.of(7, 7.5, -7));
    c.put(7, 21, Float32Array.of(1, 1, 1));
    c.remove(8, 24);
    for (let i = 100; i < 300; i++) c.put(i, i, Float32Array.of(1, 2, 3)); // grows the copy
    expect(t.size).toBe(100);
    expect(t.rows.getWeights(t.find(7, 21))).toEqual(Float32Array.of(7, 7.5, -7));
    expect(t.find(8, 24)).toBeGreaterThanOrEqual(0);
    expect(t.find(150, 150)).toBe(-1);
    expect(c.find(8, 24)).toBe(-1);
    expect(c.rows.getWeights(c.find(150, 150))).toEqual(Float32Array.of(1, 2, 3));
  });
});

describe('EmbeddingTable.reserve', () => {
  it('grows to the rows asked plus an eighth, every id still found, and admits past it by doubling', () => {
    const t = new EmbeddingTable('C1', 1, { initialCapacity: 100 });
    for (let i = 0; i < 100; i++) t.put(i, i, Float32Array.of(i, -i));
    t.reserve(50); // fits: nothing changes
    expect(t.capacity).toBe(100);
    t.reserve(110); // the map (256 slots) is kept, the rows grow
    expect(t.capacity).toBe(110 + 13);
    t.reserve(200); // the map must grow (nextPow2(2 * 225) = 512)
    expect(t.capacity).toBe(225);
    for (let i = 100; i < 300; i++) t.put(i, i, Float32Array.of(i, -i));
    expect(t.size).toBe(300);
    const bad = Array.from({ length: 300 }, (_, i) => i).filter(
      (i) => t.find(i, i) < 0 || t.rows.getWeights(t.find(i, i))[1] !== -i,
    );
    expect(bad).toEqual([]);
  });

  it('zeroes the vacated block: a row admitted after a remove has no stale momentum or update count', () => {
    const t = new EmbeddingTable('C1', 4, { initialCapacity: 16 });
    const rows = [1, 2, 3].map((lo) => t.put(0, lo, Float32Array.of(1, 2, 3, 4)));
    const S = t.rows.stride;
    for (const r of rows) t.rows.words.fill(-7, r * S + t.rows.momOff, (r + 1) * S); // momentum, lastStep, updates
    expect(t.remove(0, 2)).toBe(true);
    const r = t.put(0, 9, Float32Array.of(5, 6, 7, 8));
    expect(r).toBe(2);
    const momentum = t.rows.words.subarray(r * S + t.rows.momOff, r * S + t.rows.metaOff);
    expect(Array.from(momentum).every((w) => w === 0)).toBe(true);
    expect(t.rows.words[r * S + t.rows.metaOff + 1]).toBe(0); // updates (lastStep is set by admission)
    expect(Array.from(t.rows.getWeights(r)).slice(0, 4)).toEqual([5, 6, 7, 8]);
  });
});
