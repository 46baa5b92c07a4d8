import { describe, expect, it } from 'vitest';
import { EmbeddingTable } from '../../../src/model/embedding-table.ts';

/**
 * No collisions (issue "The embedding store at production scale"): 10^7 distinct 64-bit feature
 * ids each keep their own row. The ids are built to stress the id map's tagged entries (an entry
 * holds the row and the top bits of the id's hi word, see EmbeddingTable):
 *   - A: 2.5M ids with hi = 0..2.5M-1 (equal tags: small hi) in groups of 8 whose lo words are
 *     chosen so that the 8 share their home position in every map up to 2^25 entries (long probe
 *     chains of equal tags: only the full id tells them apart),
 *   - B: 2.5M ids whose hi words share their top 12 bits (equal tags) and whose lo is 1..3,
 *   - C: 5M xorshift ids with lo's top bit set (so they differ from A and B).
 * Each is admitted once (growth from 1024 rows included), found again at its own row with its
 * own id, and ids next to them (lo + 2^30 or hi xor 1) that were never admitted are not found.
 */
const N = 10_000_000;

function ids(): { hi: Uint32Array; lo: Uint32Array } {
  const hi = new Uint32Array(N),
    lo = new Uint32Array(N);
  const quarter = N / 4;
  let s = 0x2545f491;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  for (let i = 0; i < N; i++) {
    if (i < quarter) {
      hi[i] = i;
      // home = (lo ^ imul(hi, 0x9e3779b1)) & mask: the group's home H in the low 25 bits
      const H = Math.imul((i >>> 3) + 1, 0x85ebca6b) >>> 0;
      lo[i] = ((H ^ Math.imul(i, 0x9e3779b1)) & 0x1ffffff) >>> 0;
    } else if (i < 2 * quarter) {
      const j = i - quarter;
      hi[i] = (0xabc00000 | (j & 0xfffff)) >>> 0;
      lo[i] = 1 + (j >>> 20);
    } else {
      hi[i] = next();
      lo[i] = (next() | 0x80000000) >>> 0;
    }
  }
  return { hi, lo };
}

describe('EmbeddingTable: no collisions at 10^7 ids', () => {
  it('10^7 distinct ids each keep their own row; absent neighbours are not found', () => {
    const { hi, lo } = ids();
    // the xorshift part must be distinct itself for the test to mean what it says
    const seen = new Set<bigint>();
    for (let i = N / 2; i < N; i++) seen.add((BigInt(hi[i]) << 32n) | BigInt(lo[i]));
    expect(seen.size).toBe(N / 2);
    seen.clear();

    const t = new EmbeddingTable('C1', 1, { initialCapacity: 1024, momentumDtype: 'none' });
    let wrongRow = 0;
    for (let i = 0; i < N; i++) if (t.findOrAdmit(hi[i], lo[i]) !== i) wrongRow++;
    expect(wrongRow).toBe(0);
    expect(t.size).toBe(N);

    let lost = 0,
      foundAbsent = 0;
    for (let i = 0; i < N; i++) {
      const r = t.find(hi[i], lo[i]);
      if (r !== i || t.idHi(r) !== hi[i] || t.idLo(r) !== lo[i]) lost++;
      // never admitted: A's lo + 2^30 (A's lo < 2^25) is no lo of A or B and lacks C's top bit; hi ^ 1 in C is
      // another random id (admitted with probability ~5e6 / 2^64)
      const absentLo = i < N / 2 ? (lo[i] + 0x40000000) >>> 0 : lo[i];
      const absentHi = i < N / 2 ? hi[i] : (hi[i] ^ 1) >>> 0;
      if (t.find(absentHi, absentLo) !== -1) foundAbsent++;
    }
    expect({ lost, foundAbsent }).toEqual({ lost: 0, foundAbsent: 0 });
    // the id map is sized by the rows in use, at most 0.75 full (id-map-size.ts): 2^24 entries of 4 bytes at
    // 10^7 rows; ids 8 and rows 8 (W = 2) a row of capacity, which grows by a 64th (row-ids.ts); the old map
    // (2^23 entries) has moved (id-map-move.ts: 1M admissions after the doubling at 6.3M rows)
    expect(t.bytes).toBe(16 * t.capacity + 4 * 2 ** 24);
    expect(t.capacity - t.size).toBeLessThan(t.size / 64 + 2 ** 14);
  });
});
