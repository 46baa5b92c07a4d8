import { describe, expect, it } from 'vitest';
import { SlotHasher } from '../../../src/features/hash.ts';
import { fnv1a, TextIds } from '../../../src/serve/text-ids.ts';

describe('TextIds: categorical ids by their text in a body', () => {
  it("fnv1a is FNV-1a 32-bit (the FNV page's vectors, as int32)", () => {
    expect(fnv1a('', 0, 0)).toBe(0x811c9dc5 | 0);
    expect(fnv1a('a', 0, 1)).toBe(0xe40c292c | 0);
    expect(fnv1a('xfoobary', 1, 7)).toBe(0xbf9cf968 | 0);
  });

  it('finds each stored value by its range in any text, with the id stored; nothing else', () => {
    const ids = new TextIds();
    const h = new SlotHasher('C1');
    const hi = new Uint32Array(1),
      lo = new Uint32Array(1);
    const values = Array.from({ length: 5000 }, (_, i) => (i % 7 === 0 ? `é${i}😀` : `v${i}`));
    values.push('', 'v', 'v1 ');
    for (const v of values) {
      h.hashInto(v, hi, lo, 0);
      ids.add(v, fnv1a(v, 0, v.length), hi[0], lo[0]);
    }
    for (const v of values) {
      const text = `{"C1": "${v}"}`;
      const s = 8,
        e = 8 + v.length;
      const k = ids.find(text, s, e, fnv1a(text, s, e));
      expect(k, v).toBeGreaterThanOrEqual(0);
      h.hashInto(v, hi, lo, 0);
      expect([ids.hi[k], ids.lo[k]], v).toEqual([hi[0], lo[0]]);
    }
    // a prefix, a longer value, another value: not found
    for (const v of ['v12345678', 'w1', 'é0']) expect(ids.find(v, 0, v.length, fnv1a(v, 0, v.length)), v).toBe(-1);
  });

  it('a value whose hash another has is told apart by its text', () => {
    const ids = new TextIds();
    ids.add('a', 7, 1, 1);
    ids.add('b', 7, 2, 2);
    expect(ids.find('b', 0, 1, 7)).toBe(1);
    expect(ids.find('a', 0, 1, 7)).toBe(0);
    expect(ids.find('c', 0, 1, 7)).toBe(-1);
  });

  it('is emptied when full (bounded memory)', () => {
    const ids = new TextIds(4);
    for (const v of ['a', 'b', 'c', 'd']) ids.add(v, fnv1a(v, 0, 1), 0, 0);
    expect(ids.find('a', 0, 1, fnv1a('a', 0, 1))).toBe(0);
    ids.add('e', fnv1a('e', 0, 1), 5, 5);
    expect(ids.find('a', 0, 1, fnv1a('a', 0, 1))).toBe(-1);
    const k = ids.find('e', 0, 1, fnv1a('e', 0, 1));
    expect([k, ids.hi[k]]).toEqual([0, 5]);
  });
});
