/**
 * CtrModel.gather (the train step's row lookup and tower input, into reused arrays as the step
 * calls it) against the gather it replaced (issue 13: the row lookup was 27-28% of the native
 * step on 1e5-row ids runs, 41-71% on 1e7 before a first change), interleaved in one
 * run (A B A B): config/criteo.json's model, every table filled first with floor(rows / 39) ids
 * as the speed suite's ids mode does (bench/suite/ids-file.ts, ids uniform over the rows), then
 * `--reps` rounds of one gather per pre-made batch by each (each on a batch other than the last
 * one gathered, in alternating order). It checks both give the same x, wide and row indices, and
 * prints the median ms per gather, the median of the per-pair ratios and the load average;
 * with `--step` also the median ms of a whole TrainStep.run (the step's share of the lookup).
 *
 *   npx tsx bench/gather-speed.ts [--batch 4096] [--rows 10000000] [--reps 7] [--backend wasm] [--step]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { featureSchemaOf } from '../src/cli/common.ts';
import { modelOf, optimConfigOf } from '../src/cli/model-setup.ts';
import { loadConfig } from '../src/config/schema.ts';
import type { FeatureBatch } from '../src/features/feature-batch.ts';
import { selectBackend, type BackendName } from '../src/model/backend.ts';
import type { CtrModel } from '../src/model/ctr-model.ts';
import { GatherBuffers } from '../src/model/gather-buffers.ts';
import { TrainStep } from '../src/train/train-step.ts';
import { idOf, makeIdBatches } from './suite/ids-file.ts';

const { values: v } = parseArgs({
  options: {
    batch: { type: 'string', default: '4096' },
    rows: { type: 'string', default: '10000000' },
    reps: { type: 'string', default: '7' },
    backend: { type: 'string', default: 'wasm' },
    step: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (v.help) {
  console.log('npx tsx bench/gather-speed.ts [--batch 4096] [--rows 10000000] [--reps 7] [--backend wasm] [--step]');
  process.exit(0);
}
const B = Number(v.batch),
  ROWS = Number(v.rows),
  REPS = Number(v.reps);
await selectBackend(v.backend as BackendName);
const cfg = loadConfig(['config/criteo.json'], []);
const schema = featureSchemaOf(cfg);
const model = modelOf(cfg, schema);
const F = model.tables.length;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
console.log(`gather-speed: batch ${B}, ${ROWS} rows, ${REPS} rounds, backend ${v.backend}; load ${load()}`);
const per = Math.floor(ROWS / F);
let t0 = performance.now();
model.tables.forEach((t, f) => {
  for (let k = 0; k < per; k++) {
    const { hi, lo } = idOf(f, k);
    t.findOrAdmit(hi, lo);
  }
});
console.log(`filled ${per * F} rows in ${((performance.now() - t0) / 1e3).toFixed(1)} s`);

const batches: FeatureBatch[] = makeIdBatches(4, B, ROWS).batches.map((x) => {
  const idHi = new Uint32Array(B * F),
    idLo = new Uint32Array(B * F);
  for (let i = 0; i < B * F; i++) ({ hi: idHi[i], lo: idLo[i] } = idOf(i % F, x.ids[i]));
  return {
    size: B,
    labels: x.labels,
    weights: new Float32Array(B).fill(1),
    dense: x.dense,
    idHi,
    idLo,
    eventTimeMs: new Float64Array(B).fill(NaN),
    partitions: new Int32Array(B),
    offsets: new Float64Array(B).map((_, b) => b),
  };
});

/**
 * The gather this one replaced (main before the one-example-at-a-time fill), for an ungated model
 * without budget or eviction (criteo.json's): per slot, each id's findOrAdmit, then the slot's rows
 * copied into its column of a fresh zeroed x (B strided stretches per slot), read ahead 256 at a time.
 */
function previousGather(m: CtrModel, batch: FeatureBatch) {
  const N = m.schema.numeric.length,
    I = m.inputDim;
  const rowIdx = new Int32Array(B * F),
    x = new Float32Array(B * I),
    wide = new Float32Array(B);
  let acc = 0;
  for (let f = 0; f < F; f++) {
    const t = m.tables[f],
      D = t.dim,
      co = m.columnOffset(f);
    for (let b = 0; b < B; b++) rowIdx[b * F + f] = t.findOrAdmit(batch.idHi[b * F + f], batch.idLo[b * F + f]);
    for (let b0 = 0; b0 < B; b0 += 256) {
      const b1 = Math.min(B, b0 + 256);
      for (let b = b0; b < b1; b++) {
        const r = rowIdx[b * F + f];
        if (r >= 0) acc += t.rows.dataOf(r)[t.rows.at(r)];
      }
      for (let b = b0; b < b1; b++) {
        const r = rowIdx[b * F + f];
        if (r < 0) continue;
        const w = t.rows.dataOf(r),
          ro = t.rows.at(r),
          xo = b * I + co;
        wide[b] += w[ro];
        for (let j = 0; j < D; j++) x[xo + j] = w[ro + 1 + j];
      }
    }
  }
  const dOff = I - N;
  for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) x[b * I + dOff + n] = batch.dense[b * N + n];
  if (Number.isNaN(acc)) console.log('(read-ahead sum)');
  return { rowIdx, x, wide };
}
/** The gather as the train step calls it: into arrays reused batch after batch. */
const bufs = new GatherBuffers();
const gather = (bt: FeatureBatch) => model.gather(bt, true, undefined, bufs);

const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((x, i) => Object.is(x, b[i]));
for (const bt of batches) {
  const a = previousGather(model, bt),
    b = gather(bt);
  if (!same(a.x, b.x) || !same(a.wide, b.wide) || !same(a.rowIdx, b.rowIdx)) throw new Error('gathers differ');
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const prev: number[] = [],
  now: number[] = [],
  ratio: number[] = [];
// each gather on a batch other than the one just gathered (its rows, ~20 MB at 4096 x 39, would
// still be in L3 cache), the two in alternating order: A(i) B(i+2), B(i+1) A(i+3), ...
for (let r = 0; r < REPS; r++)
  for (let i = 0; i < batches.length; i++) {
    const first = i % 2 === 0 ? 'prev' : 'now';
    const ms: Record<string, number> = {};
    for (const [who, bt] of [
      [first, batches[i]],
      [first === 'prev' ? 'now' : 'prev', batches[(i + 2) % batches.length]],
    ] as const) {
      t0 = performance.now();
      if (who === 'prev') previousGather(model, bt);
      else gather(bt);
      ms[who] = performance.now() - t0;
    }
    prev.push(ms.prev);
    now.push(ms.now);
    ratio.push(ms.prev / ms.now);
  }
const p = median(prev),
  n = median(now);
const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;
console.log(`previous gather ${p.toFixed(1)} ms (${range(prev)})`);
console.log(`gather          ${n.toFixed(1)} ms (${range(now)})`);
console.log(
  `previous / now, median of ${ratio.length} pairs: ${median(ratio).toFixed(2)}x (${range(ratio)}); load ${load()}`,
);
if (v.step) {
  const step = new TrainStep(model, optimConfigOf(cfg, model.slots));
  step.run(batches[0]);
  const st: number[] = [];
  for (let r = 0; r < REPS; r++)
    for (const bt of batches) {
      t0 = performance.now();
      step.run(bt);
      st.push(performance.now() - t0);
    }
  console.log(
    `TrainStep.run ${median(st).toFixed(1)} ms (gather ${((100 * n) / median(st)).toFixed(0)}% of it); load ${load()}`,
  );
}
