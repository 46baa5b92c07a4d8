/**
 * The in-place apply of a delta's rows in two parts, so that the stretch that blocks the event loop
 * (and every request) stays short on a large served model: `prepareRows` finds, in slices of rows
 * with a yield between them, where each changed row sits in the served tables now (a hash probe
 * per row: random reads in tables of 10^7 rows) and orders them by that row index (a counting
 * sort on blocks of rows, so that the writes of the apply go through memory in order: 2.7x faster
 * than in delta order at 10^7 rows); it changes nothing, so requests served meanwhile see the old
 * version whole. `applyPrepared` then changes everything in
 * one synchronous stretch (delta-applier.ts: a request sees the model wholly before or wholly
 * after): rows found are written at their index, then tombstones removed, then the other rows
 * (new ids, ids tombstoned and admitted again, rows moved meanwhile) put as before.
 *
 * The result equals applyRows' (tombstones first, then changed rows): a row written at its index
 * is not tombstoned (tombstoned ids go to the put pass), and a removal moves rows with their
 * values. Measured by bench/delta-freshness.ts (event-loop delay during the apply, both ways).
 */
import type { CtrModel } from '../model/ctr-model.ts';
import type { EmbeddingTable } from '../model/embedding-table.ts';
import type { ParsedDelta } from './delta-reader.ts';

/** What applying a delta changed. */
export interface DeltaCounts {
  /** Changed rows put (replaced or inserted). */
  rows: number;
  /** Tombstoned rows removed (ids the table did not hold are not counted). */
  removed: number;
}

/** Where the changed rows of a delta sit in the served tables, per entry of `d.rows`. */
export interface PreparedRows {
  /** Row index of each changed row, or -1 (absent or tombstoned: the put pass). */
  at: Int32Array[];
  /** The changed rows found (at >= 0), by block of row index ascending. */
  order: Int32Array[];
}

/** Row index blocks of the counting sort: at most this many. */
const BLOCKS = 65536;

/**
 * Finds the row index of every changed row of `d` in `model`'s tables, `sliceRows` rows per
 * event-loop turn; -1 for ids absent or tombstoned by `d`. Reads only.
 * @param sliceRows rows per turn (> 0).
 */
export async function prepareRows(model: CtrModel, d: ParsedDelta, sliceRows: number): Promise<PreparedRows> {
  let budget = sliceRows;
  // awaited only once per slice (an await per row would cost a microtask hop per row)
  const turn = () => {
    budget = sliceRows;
    return new Promise((res) => setImmediate(res));
  };
  // the row indices of tombstoned ids (small integers: a fast Set), per table
  const gone = new Map<number, Set<number>>();
  for (const t of d.tombstones) {
    const s = gone.get(t.table) ?? new Set<number>();
    gone.set(t.table, s);
    for (let i = 0; i < t.n; i++) {
      const row = model.tables[t.table].find(t.hi[i], t.lo[i]);
      if (row >= 0) s.add(row);
      if (--budget === 0) await turn();
    }
  }
  const at: Int32Array[] = [],
    order: Int32Array[] = [];
  for (const r of d.rows) {
    const table = model.tables[r.table],
      g = gone.get(r.table),
      out = new Int32Array(r.n);
    let shift = 0;
    while (table.size >>> shift > BLOCKS) shift++;
    const start = new Int32Array(BLOCKS + 1);
    let found = 0;
    for (let i = 0; i < r.n; i++) {
      const row = table.find(r.hi[i], r.lo[i]);
      out[i] = row >= 0 && g?.has(row) ? -1 : row;
      if (out[i] >= 0) {
        start[(out[i] >>> shift) + 1]++;
        found++;
      }
      if (--budget === 0) await turn();
    }
    for (let b = 1; b <= BLOCKS; b++) start[b] += start[b - 1];
    const sorted = new Int32Array(found);
    for (let i = 0; i < r.n; i++) {
      if (out[i] >= 0) sorted[start[out[i] >>> shift]++] = i;
      if (--budget === 0) await turn();
    }
    at.push(out);
    order.push(sorted);
  }
  return { at, order };
}

/** Puts rows `idx` (indices into r) of `r` into `table`, making room for the new ids at once. */
function putRows(table: EmbeddingTable, r: ParsedDelta['rows'][number], idx: ArrayLike<number>, n: number): void {
  const W = table.width;
  if (table.size + n > table.capacity) {
    // room for the new ids at once (a loaded table has little spare capacity): one copy, not a doubling
    let fresh = 0;
    for (let k = 0; k < n; k++) if (table.find(r.hi[idx[k]], r.lo[idx[k]]) < 0) fresh++;
    table.reserve(table.size + fresh);
  }
  for (let k = 0; k < n; k++) {
    const i = idx[k];
    table.put(r.hi[i], r.lo[i], r.values.subarray(i * W, (i + 1) * W));
  }
}

/**
 * Tombstones first, then changed rows: a row removed and admitted again before the delta was
 * written is in both and must end up present. One synchronous stretch.
 */
export function applyRows(model: CtrModel, d: ParsedDelta): DeltaCounts {
  let removed = 0,
    rows = 0;
  for (const t of d.tombstones) {
    const table = model.tables[t.table];
    for (let i = 0; i < t.n; i++) if (table.remove(t.hi[i], t.lo[i])) removed++;
  }
  for (const r of d.rows) {
    const all = new Int32Array(r.n);
    for (let i = 0; i < r.n; i++) all[i] = i;
    putRows(model.tables[r.table], r, all, r.n);
    rows += r.n;
  }
  return { rows, removed };
}

/**
 * Applies the rows of `d` to `model` with `prep` (prepareRows on the same model), synchronously,
 * with the result of applyRows: rows whose index still holds their id are written there, then
 * tombstones are removed, then the rest is put. An index that no longer holds its id (the table
 * changed since prepareRows) only sends that row to the put pass.
 */
export function applyPrepared(model: CtrModel, d: ParsedDelta, prep: PreparedRows): DeltaCounts {
  const rest: Int32Array[] = [],
    nRest: number[] = [];
  let rows = 0,
    removed = 0;
  d.rows.forEach((r, j) => {
    const table = model.tables[r.table],
      at = prep.at[j],
      order = prep.order[j],
      store = table.rows,
      W = table.width;
    const later = new Int32Array(r.n);
    let n = 0;
    for (let i = 0; i < r.n; i++) if (at[i] < 0) later[n++] = i;
    for (let k = 0; k < order.length; k++) {
      const i = order[k],
        row = at[i];
      if (row < table.size && table.idHi(row) === r.hi[i] && table.idLo(row) === r.lo[i]) {
        const o = store.at(row),
          data = store.dataOf(row),
          v = i * W;
        for (let c = 0; c < W; c++) data[o + c] = r.values[v + c];
      } else later[n++] = i;
    }
    rest.push(later);
    nRest.push(n);
    rows += r.n;
  });
  for (const t of d.tombstones) {
    const table = model.tables[t.table];
    for (let i = 0; i < t.n; i++) if (table.remove(t.hi[i], t.lo[i])) removed++;
  }
  d.rows.forEach((r, j) => {
    putRows(model.tables[r.table], r, rest[j], nRest[j]);
  });
  return { rows, removed };
}
