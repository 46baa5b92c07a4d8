/**
 * Embedding-table lookups against the random-read floor (issue "The embedding store at
 * production scale"): for tables of 10^6 and 10^7 rows (dim 16, bfloat16 momentum; 10^8 with
 * `--sizes`), it times, in the same run,
 *   - floor: gathering the weights (W = 17 float32) of random rows of the table's own rows by
 *     row index (chunk r >>> shift, word (r & mask) * stride: no id map, the best a lookup
 *     could do; no second copy: 11 GB at 10^8 rows), at rows drawn apart from the lookup's,
 *     so that neither warms the other's rows in cache;
 *   - lookup: EmbeddingTable.find(hi, lo) of random rows' 64-bit ids, then the same gather, id by id;
 *   - batched: EmbeddingTable.findMany over `--batch` ids at a time (as a training batch's slot is
 *     looked up, src/model/slot-lookup.ts, then gathered), then the same gather of those rows;
 *   - admit: inserting the ids into an empty table (growth included).
 * It prints lookups/s, the ratios lookup / floor and batched / floor (median over rounds of floor
 * time / lookup time, the three timed back to back in each round), bytes per row (EmbeddingTable.bytes / rows: rows,
 * momentum, bookkeeping, ids and the id map), and RSS. `--initial-capacity` pre-sizes each
 * table (default 1024, then grown as training grows it: by a 64th past 2^16 rows, row-ids.ts;
 * ~12.2 GiB of RSS at 10^8 rows: run one at a time, see `free -g`).
 *
 *   npx tsx bench/table-lookup.ts [--sizes 1000000,10000000] [--lookups 1000000] [--reps 7]
 *     [--initial-capacity 1024] [--batch 4096]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { EmbeddingTable } from '../src/model/embedding-table.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000000,10000000' },
    lookups: { type: 'string', default: '1000000' },
    reps: { type: 'string', default: '7' },
    'initial-capacity': { type: 'string', default: '1024' },
    batch: { type: 'string', default: '4096' },
    help: { type: 'boolean' },
  },
});
const usage =
  'usage: npx tsx bench/table-lookup.ts [--sizes 1000000,10000000] [--lookups 1000000] [--reps 7]' +
  ' [--initial-capacity 1024] [--batch 4096]';
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const sizes = values.sizes.split(',').map(Number),
  L = Number(values.lookups),
  reps = Number(values.reps),
  initialCapacity = Number(values['initial-capacity']),
  batch = Number(values.batch);
for (const v of [L, reps, initialCapacity, batch, ...sizes]) {
  if (!Number.isInteger(v) || v < 1) {
    console.error(
      `bench/table-lookup: sizes, lookups, reps, initial-capacity, batch take whole numbers >= 1\n${usage}`,
    );
    process.exit(2);
  }
}
const D = 16,
  W = D + 1;
let seed = 0x9e3779b9;
/** xorshift32: uniform 32-bit words (the ids are XXH64 outputs in the product: uniform too). */
const next = (): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
};
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1];
const mib = (b: number): string => (b / 2 ** 20).toFixed(0);

console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
console.log(
  'rows | admit rows/s | floor reads/s | lookups/s | lookup/floor | batched/s | batched/floor | bytes/row | RSS MiB |' +
    ' RSS/row | chunks',
);
for (const R of sizes) {
  const hi = new Uint32Array(R),
    lo = new Uint32Array(R);
  for (let i = 0; i < R; i++) {
    hi[i] = next();
    lo[i] = next();
  }
  const t = new EmbeddingTable('C1', D, { momentumDtype: 'bfloat16', initialCapacity });
  let t0 = performance.now();
  for (let i = 0; i < R; i++) t.findOrAdmit(hi[i], lo[i]);
  const admitS = (performance.now() - t0) / 1000;
  const S = t.rows.stride,
    floorPick = new Uint32Array(L),
    pick = new Uint32Array(L),
    qHi = new Uint32Array(L),
    qLo = new Uint32Array(L),
    out = new Float32Array(W),
    found = new Int32Array(L);
  const ratios: number[] = [],
    lookupRates: number[] = [],
    floorRates: number[] = [],
    batchRatios: number[] = [],
    batchRates: number[] = [];
  let sink = 0;
  for (let rep = 0; rep < reps; rep++) {
    // the ids of the picked rows, gathered before timing: the floor reads no ids either
    for (let i = 0; i < L; i++) {
      pick[i] = next() % R;
      qHi[i] = hi[pick[i]];
      qLo[i] = lo[pick[i]];
      floorPick[i] = next() % R;
    }
    const chunks = t.rows.chunks,
      sh = t.rows.shift,
      cm = t.rows.chunkMask;
    t0 = performance.now();
    for (let i = 0; i < L; i++) {
      const r = floorPick[i],
        floorRows = chunks[r >>> sh].data,
        o = (r & cm) * S;
      for (let j = 0; j < W; j++) out[j] = floorRows[o + j];
      sink += out[0];
    }
    const floorS = (performance.now() - t0) / 1000;
    t0 = performance.now();
    for (let i = 0; i < L; i++) {
      const r = t.find(qHi[i], qLo[i]),
        data = chunks[r >>> sh].data,
        o = (r & cm) * S;
      for (let j = 0; j < W; j++) out[j] = data[o + j];
      sink += out[0];
    }
    const lookupS = (performance.now() - t0) / 1000;
    t0 = performance.now();
    for (let b0 = 0; b0 < L; b0 += batch) {
      const b1 = Math.min(L, b0 + batch);
      t.findMany(qHi, qLo, b0, b1, 1, found);
      for (let i = b0; i < b1; i++) {
        const r = found[i],
          data = chunks[r >>> sh].data,
          o = (r & cm) * S;
        for (let j = 0; j < W; j++) out[j] = data[o + j];
        sink += out[0];
      }
    }
    const batchS = (performance.now() - t0) / 1000;
    ratios.push(floorS / lookupS);
    lookupRates.push(L / lookupS);
    floorRates.push(L / floorS);
    batchRatios.push(floorS / batchS);
    batchRates.push(L / batchS);
  }
  if (Number.isNaN(sink)) console.log('(sink)');
  const row = [
    R.toExponential(0),
    (R / admitS).toExponential(2),
    median(floorRates).toExponential(2),
    median(lookupRates).toExponential(2),
    median(ratios).toFixed(2),
    median(batchRates).toExponential(2),
    median(batchRatios).toFixed(2),
    (t.bytes / t.size).toFixed(1),
    mib(process.memoryUsage().rss),
    (process.memoryUsage().rss / R).toFixed(1),
    t.rows.chunks.length,
  ];
  console.log(row.join(' | '));
}
