/**
 * The train step's two hot copies with src/model/float-runs.ts against the `for (j < D)` loops
 * they replaced, interleaved in one process: `stage`, the wasm sparse kernel's staging of each
 * slot's [B, D] gradient columns out of the [B, I] tower-input gradient into the slot's own
 * WebAssembly memory (39 slots, WasmSparseLion.stage), and `rows`, row-gather's copies of each
 * example's rows into the tower input (39 rows of D words a example from 39 tables).
 *
 *   npx tsx bench/stage-copy.ts [--batch 4096] [--dim 16] [--slots 39] [--rounds 15]
 *
 * Each round runs every variant once, in alternating order, on a fresh gradient array (as each
 * step reads back a new one); it prints per variant the median and range of CPU ms (this
 * thread's only; less swayed than wall time by other work on the cores), the loop's time over
 * float-runs' time, and the 1-min load average at the start and end.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { copyColumns, copyRun } from '../src/model/float-runs.ts';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '4096' },
    dim: { type: 'string', default: '16' },
    slots: { type: 'string', default: '39' },
    rounds: { type: 'string', default: '15' },
  },
});
const [B, D, F, rounds] = [values.batch, values.dim, values.slots, values.rounds].map(Number);
const I = F * D + 13,
  ROWS = 1 << 14,
  S = D + 1;
const mems = Array.from({ length: F }, () => new WebAssembly.Memory({ initial: Math.ceil((B * D * 4) / 65536) + 1 }));
const tables = Array.from({ length: F }, () => Float32Array.from({ length: ROWS * S }, Math.random));
const rowIdx = Int32Array.from({ length: B * F }, () => Math.floor(Math.random() * ROWS));
const x = new Float32Array(B * I);

const variants: Record<string, (gx: Float32Array) => void> = {
  'stage loop': (gx) => {
    for (let f = 0; f < F; f++) {
      const g = new Float32Array(mems[f].buffer, 0, B * D),
        col = f * D;
      for (let b = 0; b < B; b++) {
        const s = b * I + col,
          d = b * D;
        for (let j = 0; j < D; j++) g[d + j] = gx[s + j];
      }
    }
  },
  'stage float-runs': (gx) => {
    for (let f = 0; f < F; f++) copyColumns(new Float32Array(mems[f].buffer, 0, B * D), 0, D, gx, f * D, I, B, D);
  },
  'rows loop': () => {
    for (let b = 0; b < B; b++)
      for (let f = 0, xo = b * I; f < F; f++, xo += D) {
        const d = tables[f],
          o = rowIdx[b * F + f] * S + 1;
        for (let j = 0; j < D; j++) x[xo + j] = d[o + j];
      }
  },
  'rows float-runs': () => {
    for (let b = 0; b < B; b++)
      for (let f = 0, xo = b * I; f < F; f++, xo += D) copyRun(x, xo, tables[f], rowIdx[b * F + f] * S + 1, D);
  },
};
const names = Object.keys(variants);
const ms: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const loadStart = loadavg()[0].toFixed(2);
for (let r = 0; r < rounds; r++) {
  const order = r % 2 ? [...names].reverse() : names;
  for (const n of order) {
    const gx = Float32Array.from({ length: B * I }, (_, i) => i * 1e-3);
    const t = cpuMs();
    variants[n](gx);
    ms[n].push(cpuMs() - t);
  }
}
const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
console.log(`batch ${B}, ${F} slots of dim ${D}, tower input ${I} wide; ${rounds} rounds; CPU ms`);
for (const n of names) {
  const v = ms[n];
  console.log(
    `${n.padEnd(18)} median ${med(v).toFixed(2)} (${Math.min(...v).toFixed(2)}-${Math.max(...v).toFixed(2)})`,
  );
}
for (const k of ['stage', 'rows'])
  console.log(`${k}: loop / float-runs ${(med(ms[`${k} loop`]) / med(ms[`${k} float-runs`])).toFixed(2)}x`);
console.log(`load average (1 min) at start ${loadStart}, at end ${loadavg()[0].toFixed(2)}`);
