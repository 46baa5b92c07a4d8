/**
 * How long a delta's in-place apply blocks the event loop (every request waits behind it) on a
 * large served table, the two ways src/serve/delta-slices.ts offers, interleaved in one run so that
 * both see the same machine load: applyRows (everything in one synchronous stretch: the apply
 * before slicing) and prepareRows (rows located in slices of --slice-rows with a yield between
 * them, ordered by row index) + applyPrepared (one shorter stretch). Per delta: --changed of the
 * rows changed (--inserted of them new ids) and --removed tombstoned, as bench/delta-freshness.ts;
 * the table is built directly (random ids, no hashing) so the run stays short.
 *
 *   npx tsx bench/delta-apply.ts [--rows 10000000] [--dim 16] [--changed 0.01] [--inserted 0.1]
 *     [--removed 0.001] [--reps 5] [--slice-rows 16384]
 *
 * Prints per rep and way: the longest event-loop stall (the longest gap between two turns of a
 * setImmediate chain running meanwhile, as a request waiting would see it), the
 * synchronous apply, the preparation's wall time; then the medians and their ratio.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { CtrModel } from '../src/model/ctr-model.ts';
import { EmbeddingTable } from '../src/model/embedding-table.ts';
import type { ParsedDelta } from '../src/serve/delta-reader.ts';
import { applyPrepared, applyRows, prepareRows } from '../src/serve/delta-slices.ts';

const { values: a } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    dim: { type: 'string', default: '16' },
    changed: { type: 'string', default: '0.01' },
    inserted: { type: 'string', default: '0.1' },
    removed: { type: 'string', default: '0.001' },
    reps: { type: 'string', default: '5' },
    'slice-rows': { type: 'string', default: '16384' },
  },
});
const N = Number(a.rows),
  W = Number(a.dim) + 1,
  slice = Number(a['slice-rows']);
const nChanged = Math.round(N * Number(a.changed)),
  nNew = Math.round(nChanged * Number(a.inserted)),
  nRemoved = Math.round(N * Number(a.removed));
let seed = 0x2545f491;
const rand = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
};
const la = () => loadavg()[0].toFixed(2);

let t = performance.now();
const table = new EmbeddingTable('C1', W - 1, { initialCapacity: Math.ceil(N * 1.125) });
const row = new Float32Array(W);
for (let i = 0; i < N; i++) table.put(rand(), rand(), row);
const model = { tables: [table] } as unknown as CtrModel;
console.log(`delta apply: table of ${N} rows, W ${W}; per delta ${nChanged} changed rows (${nNew} new), ${nRemoved}`);
console.log(`  tombstones; slices of ${slice} rows; built in ${((performance.now() - t) / 1000).toFixed(1)} s`);

/** A delta on the table as it is now: random present rows changed, new ids, random present rows removed. */
function delta(): ParsedDelta {
  const hi = new Uint32Array(nChanged),
    lo = new Uint32Array(nChanged);
  for (let j = 0; j < nChanged; j++) {
    const r = rand() % table.size;
    [hi[j], lo[j]] = j < nNew ? [rand(), rand()] : [table.idHi(r), table.idLo(r)];
  }
  const thi = new Uint32Array(nRemoved),
    tlo = new Uint32Array(nRemoved);
  for (let j = 0; j < nRemoved; j++) {
    const r = rand() % table.size;
    [thi[j], tlo[j]] = [table.idHi(r), table.idLo(r)];
  }
  const values = Float32Array.from({ length: nChanged * W }, () => (rand() / 2 ** 32 - 0.5) * 0.1);
  return {
    rows: [{ table: 0, hi, lo, values, n: nChanged }],
    tombstones: [{ table: 0, hi: thi, lo: tlo, n: nRemoved }],
  } as unknown as ParsedDelta;
}

/** Runs a setImmediate chain until stopped; `stop()` returns the longest gap between two of its turns (ms). */
function stallProbe(): { stop(): number } {
  let last = performance.now(),
    worst = 0,
    on = true;
  const turn = () => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
    if (on) setImmediate(turn);
  };
  setImmediate(turn);
  return {
    stop: () => {
      on = false;
      return worst;
    },
  };
}
const res: Record<'one' | 'sliced', { stall: number[]; apply: number[]; prep: number[] }> = {
  one: { stall: [], apply: [], prep: [] },
  sliced: { stall: [], apply: [], prep: [] },
};
const tick = () => new Promise((r) => setTimeout(r, 20));
for (let rep = 0; rep < Number(a.reps); rep++) {
  for (const way of rep % 2 ? (['sliced', 'one'] as const) : (['one', 'sliced'] as const)) {
    const d = delta();
    await tick();
    const probe = stallProbe();
    t = performance.now();
    const prep = way === 'sliced' ? await prepareRows(model, d, slice) : undefined;
    const t1 = performance.now();
    if (prep) applyPrepared(model, d, prep);
    else applyRows(model, d);
    const t2 = performance.now();
    await tick(); // the probe's next turn records the stall of the apply
    const stall = probe.stop();
    const r = res[way];
    r.stall.push(stall);
    r.apply.push(t2 - t1);
    r.prep.push(t1 - t);
    console.log(
      `rep ${rep + 1} ${way.padEnd(6)}: longest stall ${stall.toFixed(0)} ms, synchronous apply ` +
        `${(t2 - t1).toFixed(0)} ms, located beforehand in ${(t1 - t).toFixed(0)} ms; load average ${la()}`,
    );
  }
}
const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
const [o, s] = [res.one, res.sliced];
console.log(
  `median longest stall: one stretch ${med(o.stall).toFixed(0)} ms, sliced ${med(s.stall).toFixed(0)} ms ` +
    `(${(med(o.stall) / med(s.stall)).toFixed(2)}x shorter); median delta time: one stretch ` +
    `${med(o.apply).toFixed(0)} ms, sliced ${(med(s.apply) + med(s.prep)).toFixed(0)} ms ` +
    `(${med(s.prep).toFixed(0)} ms of it yielding); load average ${la()}`,
);
