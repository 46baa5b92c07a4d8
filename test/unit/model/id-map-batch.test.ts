/**
 * EmbeddingTable.findMany (src/model/id-map-batch.ts: a batch's ids found in passes, so that their
 * cache misses overlap) answers find() id for id: present and absent ids, ids that share another
 * id's home position and tag (the pass that trusts a tag match must fall back to find()), a
 * strided [B, F] batch's slot, and a table whose old id map is still moving (id-map-move.ts).
 */
import { describe, expect, it } from 'vitest';
import { EmbeddingTable } from '../../../src/model/embedding-table.ts';

/** Distinct, well-spread ids (as row-ids.test.ts's). */
const id = (i: number): [number, number] => [
  Math.imul(i, 0x9e3779b1) >>> 0,
  Math.imul(i ^ 0x5bd1e995, 0x85ebca6b) >>> 0,
];

/** Ids (hi, lo) and (hi, lo ^ 2^31): the same home (lo's low bits) and the same tag (hi's top bits). */
const twin = (hi: number, lo: number): [number, number] => [hi, (lo ^ 0x80000000) >>> 0];

/** [B, F] query ids: present, absent and twins of present ones, in a seeded mix. */
function queries(present: number, B: number, F: number): { hi: Uint32Array; lo: Uint32Array } {
  const hi = new Uint32Array(B * F),
    lo = new Uint32Array(B * F);
  let s = 12345;
  for (let k = 0; k < B * F; k++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const i = s % present,
      kind = (s >>> 20) % 4;
    [hi[k], lo[k]] = kind === 0 ? id(present + i) : kind === 1 ? twin(...id(i)) : id(i);
  }
  return { hi, lo };
}

/** Ids k where findMany's answer differs from find's. */
function differing(t: EmbeddingTable, q: { hi: Uint32Array; lo: Uint32Array }, F: number): number[] {
  const out = new Int32Array(q.hi.length).fill(-7),
    bad: number[] = [];
  for (let f = 0; f < F; f++) t.findMany(q.hi, q.lo, f, q.hi.length, F, out);
  for (let k = 0; k < q.hi.length; k++) if (out[k] !== t.find(q.hi[k], q.lo[k])) bad.push(k);
  return bad;
}

describe('EmbeddingTable.findMany', () => {
  it('answers find() id for id: present, absent, same home and tag as a present id, strided', () => {
    const t = new EmbeddingTable('C1', 4, { momentumDtype: 'none' });
    const n = 50_000;
    for (let i = 0; i < n; i++) t.findOrAdmit(...id(i));
    // twins of every 5th id admitted too, after them: a probe meets the first of a pair's tag
    // matches, and for the twin that is the other id's entry
    for (let i = 0; i < n; i += 5) t.findOrAdmit(...twin(...id(i)));
    const q = queries(n, 4096, 3);
    expect(differing(t, q, 3)).toEqual([]);
    const out = new Int32Array(q.hi.length);
    t.findMany(q.hi, q.lo, 0, q.hi.length, 1, out);
    const kinds = { present: 0, absent: 0 };
    for (const r of out) kinds[r >= 0 ? 'present' : 'absent']++;
    expect(kinds.present).toBeGreaterThan(1000);
    expect(kinds.absent).toBeGreaterThan(1000);
    // leaves what lies outside [from, end) and off the stride alone
    const part = new Int32Array(12).fill(-9);
    t.findMany(q.hi, q.lo, 1, 10, 3, part);
    expect([...part]).toEqual([
      -9,
      ...[1, 4, 7].flatMap((k) => [t.find(q.hi[k], q.lo[k]), -9, -9]).slice(0, 9),
      -9,
      -9,
    ]);
  });

  it('answers find() while the old id map is still moving into the doubled one', () => {
    const t = new EmbeddingTable('C1', 0, { momentumDtype: 'none' });
    const n = 1 << 17; // past 2^16 rows the map doubles with its entries moving over the next admissions
    let moving = 0;
    for (let i = 0; i < n; i++) {
      t.findOrAdmit(...id(i));
      if (i % 997 === 0 && (t as unknown as { old: unknown }).old) {
        moving++;
        expect(differing(t, queries(i + 1, 512, 2), 2)).toEqual([]);
      }
    }
    expect(moving).toBeGreaterThan(3);
  });
});
