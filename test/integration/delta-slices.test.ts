/**
 * The sliced in-place apply of a delta's rows (src/serve/delta-slices.ts): prepareRows yields to
 * the event loop every `sliceRows` rows, changes nothing and orders the rows found by row index;
 * applyPrepared then gives exactly the tables applyRows (tombstones first, then rows) gives, also
 * for ids tombstoned and admitted again in the same delta, new ids beyond the table's capacity,
 * and a table changed between the two (rows moved by a removal).
 */
import { describe, expect, it } from 'vitest';
import { EmbeddingTable } from '../../src/model/embedding-table.ts';
import type { CtrModel } from '../../src/model/ctr-model.ts';
import type { ParsedDelta } from '../../src/serve/delta-reader.ts';
import { applyPrepared, applyRows, prepareRows } from '../../src/serve/delta-slices.ts';
import { mulberry32 } from '../helpers/prng.ts';

const W = 5;

/** A model of one table (all CtrModel fields applyRows reads) holding ids 0..n-1 with row values id + j/10. */
function tableModel(n: number): CtrModel {
  const t = new EmbeddingTable('C1', W - 1, { initialCapacity: n });
  for (let i = 0; i < n; i++)
    t.put(
      0,
      i,
      Float32Array.from({ length: W }, (_, j) => i + j / 10),
    );
  return { tables: [t] } as unknown as CtrModel;
}

/** Every id -> values of model's only table. */
function contents(m: CtrModel): Map<number, number[]> {
  const t = m.tables[0],
    out = new Map<number, number[]>();
  for (let r = 0; r < t.size; r++) out.set(t.idLo(r), Array.from(t.rows.getWeights(r)));
  return out;
}

/** A delta on ids 0..n-1: `changed` updates, `fresh` new ids, `tomb` tombstones, `both` tombstoned and put again. */
function delta(n: number, rnd: () => number): ParsedDelta {
  const ids = new Set<number>(),
    gone = new Set<number>();
  while (ids.size < n / 10) ids.add(Math.floor(rnd() * n));
  for (let k = 0; k < n / 5; k++) ids.add(n + k); // new ids: beyond the table's capacity
  while (gone.size < n / 20) gone.add(Math.floor(rnd() * n));
  const both = [...gone].slice(0, 10);
  for (const b of both) ids.add(b);
  const lo = Uint32Array.from(ids);
  const values = Float32Array.from({ length: lo.length * W }, () => rnd());
  const g = Uint32Array.from(gone);
  return {
    rows: [{ table: 0, hi: new Uint32Array(lo.length), lo, values, n: lo.length }],
    tombstones: [{ table: 0, hi: new Uint32Array(g.length), lo: g, n: g.length }],
  } as unknown as ParsedDelta;
}

/** `p`'s value and how many event-loop turns (setImmediate callbacks) ran until it resolved. */
async function withTurns<T>(p: Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0,
    done = false;
  const spin = () => {
    turns++;
    if (!done) setImmediate(spin);
  };
  setImmediate(spin);
  const value = await p;
  done = true;
  return { value, turns };
}

describe('sliced in-place apply of a delta', () => {
  it('prepareRows yields every sliceRows rows and changes nothing; applyPrepared = applyRows (5 deltas)', async () => {
    const N = 5000,
      rnd = mulberry32(7);
    for (let rep = 0; rep < 5; rep++) {
      const d = delta(N, rnd);
      const want = tableModel(N),
        got = tableModel(N);
      applyRows(want, d);
      const before = contents(got);
      const { value: prep, turns } = await withTurns(prepareRows(got, d, 50));
      expect(turns).toBeGreaterThanOrEqual(Math.floor(d.rows[0].n / 50) - 1); // the event loop turned while it prepared
      expect(contents(got)).toEqual(before);
      // the rows found, by row index (5000 rows: one row a block)
      const rowsInOrder = Array.from(prep.order[0], (i) => prep.at[0][i]);
      expect(rowsInOrder).toEqual([...rowsInOrder].sort((x, y) => x - y));
      expect(rowsInOrder.length).toBe(prep.at[0].filter((x) => x >= 0).length);
      if (rep % 2) {
        // the table changes between prepare and apply (same contents): a removal moves the last row
        // into the freed one, the removed id comes back at the end; their prepared indices are stale
        const t = got.tables[0];
        for (let k = 0; k < 50; k++) {
          const r = Math.floor(rnd() * t.size),
            id = t.idLo(r),
            v = t.rows.getWeights(r);
          t.remove(0, id);
          t.put(0, id, v);
        }
        expect(contents(got)).toEqual(before);
      }
      const counts = applyPrepared(got, d, prep);
      expect(counts).toEqual(applyRows(tableModel(N), d));
      expect(contents(got)).toEqual(contents(want));
    }
  });
});
