/**
 * Delta freshness on a large served model (issue 11 "Delta exports": a trained row served within
 * export.deltaIntervalSeconds + 1 s): a model of --rows rows (one slot of dim --dim by default)
 * is built directly (no training), exported in full and served by a started ModelRegistry
 * (polling every --poll-seconds, serve.pollSeconds; watching the exports unless --watch false;
 * rows of a delta located --slice-rows per event-loop turn before the in-place apply, 0 = all in
 * the applying turn as before); then --deltas deltas are written, each
 * changing --changed of the rows (--inserted of them new ids) and removing --removed, and for
 * each the time from the start of its write to the served model reflecting it is measured (the
 * write, the poll wait, then read + verify + apply from the registry's event), with rows/s of the
 * synchronous apply. The registry may see a delta before writeDelta returns (the rename comes
 * before the last fsync), so the poll wait is not split out. Then, to back the
 * choice of deferring over copying (src/serve/delta-applier.ts): the cost of one copy of the
 * served tables, and the wall time of a chunked 10,000-instance request (what a deferred delta
 * waits for). Per delta also the event-loop delay (perf_hooks, max and p99) while the writer
 * writes (start -> writeDelta returned: in `run` the trainer shares serving's loop) and while
 * serving reads and applies (-> served), and at the end the peak RSS of the process (writer and
 * server in one process: about twice what `serve` alone needs).
 *
 *   npx tsx bench/delta-freshness.ts [--rows 10000000] [--dim 16] [--slots 1] [--changed 0.01]
 *     [--inserted 0.1] [--removed 0.001] [--deltas 5] [--poll-seconds 1] [--watch true]
 *     [--slice-rows 16384] [--copy true]
 *
 * Deltas are written by the trainer's writeDelta (src/train/delta-writer.ts, fsynced) from the
 * bench's model, which each delta changes (tombstoned rows removed, changed rows put).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { ServeEvents } from '../src/events/serve-events.ts';
import { SlotHasher } from '../src/features/hash.ts';
import type { FeatureSchema } from '../src/features/schema.ts';
import { selectBackend } from '../src/model/backend.ts';
import { CtrModel } from '../src/model/ctr-model.ts';
import type { DeltaPredecessor } from '../src/model/delta-format.ts';
import { ModelRegistry } from '../src/serve/model-registry.ts';
import { scoreRows } from '../src/serve/scoring.ts';
import { writeExport } from '../src/train/export-writer.ts';
import { type RemovedIds, writeDelta } from '../src/train/delta-writer.ts';

const { values: a } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    dim: { type: 'string', default: '16' },
    slots: { type: 'string', default: '1' },
    changed: { type: 'string', default: '0.01' },
    inserted: { type: 'string', default: '0.1' },
    removed: { type: 'string', default: '0.001' },
    deltas: { type: 'string', default: '5' },
    'poll-seconds': { type: 'string', default: '1' },
    watch: { type: 'string', default: 'true' },
    'slice-rows': { type: 'string', default: '16384' },
    copy: { type: 'string', default: 'true' },
    help: { type: 'boolean' },
  },
});
if (a.help) {
  console.log('usage: npx tsx bench/delta-freshness.ts [--rows 1e7] [--dim 16] [--slots 1] [--changed 0.01]');
  console.log('         [--inserted 0.1] [--removed 0.001] [--deltas 5] [--poll-seconds 1] [--watch true]');
  console.log('         [--slice-rows 16384] [--copy true]');
  process.exit(0);
}
const N = Number(a.rows),
  D = Number(a.dim),
  S = Number(a.slots),
  W = D + 1;
const nChanged = Math.round(N * Number(a.changed)),
  nNew = Math.round(nChanged * Number(a.inserted)),
  nRemoved = Math.round(N * Number(a.removed));
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
const sec = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
const mem = () => `rss ${mb(process.memoryUsage().rss)}, array buffers ${mb(process.memoryUsage().arrayBuffers)}`;

let seed = 0x2545f491;
/** xorshift32 in [0, 1). */
const rand = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
};
const randomRow = (out: Float32Array, o: number) => {
  for (let j = 0; j < W; j++) out[o + j] = (rand() - 0.5) * 0.1;
};

await selectBackend('cpu');
const slots = Array.from({ length: S }, (_, i) => `C${i + 1}`);
const schema: FeatureSchema = { categorical: slots, numeric: [], embeddingDim: D };
const root = await mkdtemp(join(tmpdir(), 'lionctr-delta-bench-'));
console.log(`delta freshness: ${N} rows x ${S} slot(s), D ${D}; per delta ${nChanged} changed rows a slot`);
console.log(
  `  (${nNew} of them new ids), ${nRemoved} removed; serve.pollSeconds ${a['poll-seconds']}, watch ${a.watch}, ` +
    `slice rows ${a['slice-rows']}; load average ${loadavg()[0].toFixed(2)}; exports in ${root}`,
);

// 1. the model, built directly: ids of tokens t0..t{N-1} per slot, random rows
let t = performance.now();
const ids = slots.map((slot) => {
  const h = new SlotHasher(slot),
    hi = new Uint32Array(N),
    lo = new Uint32Array(N);
  for (let i = 0; i < N; i++) h.hashInto(`t${i}`, hi, lo, i);
  return { hi, lo, h };
});
// the trainer's side: the model stays, changed by each delta and written by writeDelta
const model = new CtrModel(schema, { hidden: [16], initStd: 0.01, seed: 1 }, { trainable: false });
{
  const row = new Float32Array(W);
  model.tables.forEach((tb, f) => {
    for (let i = 0; i < N; i++) {
      randomRow(row, 0);
      tb.put(ids[f].hi[i], ids[f].lo[i], row);
    }
  });
}
console.log(`built in ${sec(performance.now() - t)}; ${mem()}`);
t = performance.now();
const meta = (step: number) => ({ step, examples: step, sourceOffsets: {}, watermarkMs: null, metrics: {} });
const full = await writeExport(root, model, meta(0));
console.log(`full export written in ${sec(performance.now() - t)} (${mb(full.bytes)})`);

// 2. served
const pollSeconds = Number(a['poll-seconds']);
const registry = new ModelRegistry(root, pino({ level: 'warn' }), pollSeconds, {
  keepVersions: 1,
  watch: a.watch !== 'false',
  deltaSliceRows: Number(a['slice-rows']),
});
t = performance.now();
await registry.check();
const base = registry.current()?.version as string;
console.log(`base ${base} loaded in ${sec(performance.now() - t)}; ${mem()}`);
const events: ServeEvents['deltaApplied'][] = [];
registry.on('deltaApplied', (e) => events.push(e));
registry.on('deltaFailed', (e) => console.log(`delta refused: ${e.reason}: ${e.message}`));
registry.start();
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
const ms = (ns: number) => `${(ns / 1e6).toFixed(0)} ms`;
/** The event-loop delay since the last call (max, p99), reset. */
const delay = () => {
  const out = `max ${ms(loopDelay.max)}, p99 ${ms(loopDelay.percentile(99))}`;
  loopDelay.reset();
  return out;
};
const lags: number[] = [];

// 3. deltas
const rows: string[] = [];
let prev: DeltaPredecessor = {
  baseVersion: base,
  nextSeq: 1,
  version: base,
  manifestBytes: await readFile(join(full.dir, 'manifest.json')),
};
const removedSoFar = slots.map(() => new Set<number>());
for (let k = 1; k <= Number(a.deltas); k++) {
  const probes: { f: number; hi: number; lo: number; v: Float32Array }[] = [];
  const gone: { f: number; hi: number; lo: number }[] = [];
  const changedRows: Int32Array[] = [];
  const removed: Record<string, RemovedIds> = {};
  const row = new Float32Array(W),
    pair = new Uint32Array(2);
  slots.forEach((slot, f) => {
    const tb = model.tables[f];
    // tombstones first (the trainer's table moves its last row into a freed one: not a change)
    const hi = new Uint32Array(nRemoved),
      lo = new Uint32Array(nRemoved);
    for (let j = 0; j < nRemoved; j++) {
      let i = Math.floor(rand() * N);
      while (removedSoFar[f].has(i)) i = Math.floor(rand() * N);
      removedSoFar[f].add(i);
      hi[j] = ids[f].hi[i];
      lo[j] = ids[f].lo[i];
      tb.remove(hi[j], lo[j]);
    }
    removed[slot] = { hi, lo };
    // changed rows: updates of random ids (a removed one comes back), then new ids
    const changed: [number, number][] = [];
    for (let j = 0; j < nChanged; j++) {
      if (j < nNew) {
        ids[f].h.hashInto(`n${k}_${j}`, pair.subarray(0, 1), pair.subarray(1, 2), 0);
        changed.push([pair[0], pair[1]]);
      } else {
        const i = Math.floor(rand() * N);
        changed.push([ids[f].hi[i], ids[f].lo[i]]);
        removedSoFar[f].delete(i);
      }
      randomRow(row, 0);
      tb.put(changed[j][0], changed[j][1], row);
    }
    changedRows.push(Int32Array.from(new Set(changed.map(([h, l]) => tb.find(h, l)))).sort());
    for (let p = 0; p < 100; p++) {
      const [h, l] = changed[p * 7];
      probes.push({ f, hi: h, lo: l, v: tb.rows.getWeights(tb.find(h, l)) });
    }
    for (let p = 0; p < Math.min(100, nRemoved); p++)
      if (tb.find(hi[p], lo[p]) < 0) gone.push({ f, hi: hi[p], lo: lo[p] });
  });
  delay();
  t = performance.now();
  const d = await writeDelta(full.dir, prev, model, changedRows, meta(k), removed);
  prev = d.next;
  const renamed = performance.now();
  const writerDelay = delay();
  while (registry.current()?.version !== d.manifest.version) await new Promise((r) => setImmediate(r));
  const served = performance.now();
  const serveDelay = delay();
  lags.push(served - t);
  const e = events[events.length - 1];
  const m = registry.current()?.model as CtrModel;
  const wrong =
    probes.filter((p) => {
      const r = m.tables[p.f].find(p.hi, p.lo);
      return r < 0 || m.tables[p.f].rows.getWeights(r).some((x, j) => x !== p.v[j]);
    }).length + gone.filter((g) => m.tables[g.f].find(g.hi, g.lo) >= 0).length;
  const found = e.seconds * 1000,
    apply = e.applySeconds * 1000;
  rows.push(
    [
      `delta-${k}`,
      `written (fsynced) in ${sec(renamed - t)};`,
      `write start -> served ${sec(served - t)}`,
      `(found -> served ${sec(found)}: read+verify+locate rows ${sec(found - apply - e.deferredSeconds * 1000)},`,
      `apply ${sec(apply)} = ${((S * nChanged) / (apply / 1000) / 1e6).toFixed(2)} M rows/s)`,
      `in place ${e.inPlace}, probes wrong ${wrong}, served capacity ${m.tables[0].capacity};`,
      `event-loop delay while writing ${writerDelay}, while serving reads and applies ${serveDelay};`,
      `load average ${loadavg()[0].toFixed(2)}`,
    ].join(' '),
  );
  console.log(rows[rows.length - 1]);
}
loopDelay.disable();
const worst = Math.max(...lags);
console.log(
  `write start -> served: worst ${sec(worst)}, median ${sec([...lags].sort((x, y) => x - y)[lags.length >> 1])}; ` +
    `a row trained just after a delta started is served within deltaIntervalSeconds + ${sec(worst)} ` +
    `(${worst <= 1000 ? 'within' : 'NOT within'} + 1 s) with serve.pollSeconds ${pollSeconds}, watch ${a.watch}`,
);
const peak = process.resourceUsage().maxRSS * 1024;
const servedRows = JSON.stringify(registry.current()?.model.rowCounts());
const same = servedRows === JSON.stringify(model.rowCounts()) ? 'equal to' : 'DIFFERENT from';
console.log(`after ${a.deltas} deltas: served rows ${servedRows} ${same} the writer's; ${mem()}, peak rss ${mb(peak)}`);
model.dispose();

// 4. what the alternatives cost: a copy of the served tables, and a chunked request (a deferral's wait)
const cur = registry.current();
if (!cur) throw new Error('nothing served');
if (a.copy === 'false') {
  registry.stop();
  await rm(root, { recursive: true, force: true });
  process.exit(0);
}
t = performance.now();
const copies = cur.model.tables.map((tb) => tb.clone());
const copyMs = performance.now() - t;
const copyBytes = copies.reduce((s, tb) => s + tb.bytes, 0);
console.log(`one copy of the served tables: ${sec(copyMs)}, ${mb(copyBytes)} more held while old requests drain`);
copies.length = 0;
const instances = Array.from({ length: 10_000 }, (_, i) =>
  Object.fromEntries(slots.map((s) => [s, `t${(i * 7919) % N}`])),
);
for (const n of [1, 2, 3]) {
  t = performance.now();
  await scoreRows(cur, instances, (i) => `instances[${i}]`);
  if (n === 3) console.log(`a chunked request of 10,000 instances (10 chunks): ${sec(performance.now() - t)}`);
}
registry.stop();
await rm(root, { recursive: true, force: true });
