/**
 * Step-time spikes while one embedding table grows (issue "The embedding store at production
 * scale": "growth without a long pause"). One table (dim 16, bfloat16 momentum) is filled to
 * `--start` rows untimed, then each timed batch admits `--batch` new ids (findOrAdmit) and runs
 * the sparse Lion update (lazy) on those rows plus as many random existing rows, through the
 * train step's own per-table update (WasmFallback: the wasm kernel, one instance per chunk of
 * rows, each chunk in a WebAssembly memory of its own; the JS kernel if refused one), until the
 * table holds `--target` rows.
 * It prints the median and p99 batch time, the largest spikes with the growth step that caused
 * each (capacity before -> after, and how long the rows' reallocation and the id map's rebuild
 * took), RSS at each power of ten, bytes per row and which kernel ran.
 *
 * Memory: bytes/row x rows (the rows lie in chunks: growing copies at most the last chunk),
 * and while the id map doubles, the old map and 8 bytes a row of rebuild scratch.
 * The run stops (exit 3) when the machine's MemAvailable drops below `--min-free-gib`.
 *
 *   npx tsx bench/table-growth.ts [--start 1000000] [--target 100000000] [--batch 16384]
 *     [--initial-capacity 1024] [--min-free-gib 3] [--top 8]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { EmbeddingTable } from '../src/model/embedding-table.ts';
import type { BatchGrads } from '../src/train/optim/batch-grads.ts';
import { JsLionUpdate } from '../src/train/optim/sparse-update.ts';
import { WasmFallback, WasmLionUpdate } from '../src/train/optim/wasm/wasm-update.ts';

const { values } = parseArgs({
  options: {
    start: { type: 'string', default: '1000000' },
    target: { type: 'string', default: '100000000' },
    batch: { type: 'string', default: '16384' },
    'initial-capacity': { type: 'string', default: '1024' },
    'min-free-gib': { type: 'string', default: '3' },
    top: { type: 'string', default: '8' },
    help: { type: 'boolean' },
  },
});
const usage =
  'usage: npx tsx bench/table-growth.ts [--start 1000000] [--target 100000000] [--batch 16384]' +
  ' [--initial-capacity 1024] [--min-free-gib 3] [--top 8]';
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const start = Number(values.start),
  target = Number(values.target),
  B = Number(values.batch),
  initCap = Number(values['initial-capacity']),
  minFree = Number(values['min-free-gib']) * 2 ** 30,
  top = Number(values.top);
for (const v of [start, target, B, initCap, top]) {
  if (!Number.isInteger(v) || v < 1 || start > target) {
    console.error(`bench/table-growth: whole numbers >= 1 and start <= target\n${usage}`);
    process.exit(2);
  }
}
const D = 16;
let seed = 0x2545f491;
const next = (): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
};
const gib = (b: number): string => (b / 2 ** 30).toFixed(2);
/** The machine's MemAvailable (bytes). */
const available = (): number => {
  const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.POSITIVE_INFINITY;
};

const t = new EmbeddingTable('C1', D, { momentumDtype: 'bfloat16', initialCapacity: initCap });
// time the parts of each growth: the rows' reallocation (RowStore.grow) and the whole resize
// (rows + ids + id map rebuild), by wrapping them (a bench only)
const growth = { rowsMs: 0, allMs: 0 };
const rowsGrow = t.rows.grow.bind(t.rows);
t.rows.grow = (cap: number) => {
  const t0 = performance.now();
  rowsGrow(cap);
  growth.rowsMs += performance.now() - t0;
};
const tt = t as unknown as { resize(cap: number): void };
const resize = tt.resize.bind(t);
tt.resize = (cap: number) => {
  const t0 = performance.now();
  resize(cap);
  growth.allMs += performance.now() - t0;
};
const params = { lr: 1e-3, beta1: 0.9, beta2: 0.99, weightDecay: 0.01 };
const group = { embedding: params, mode: 'lazy' as const },
  lrAt = Object.assign(() => 1, { constantFrom: 0 }),
  at = { table: t, f: 0, col: 0 };
const notes: string[] = [];
const update = new WasmFallback(new WasmLionUpdate(at, group, lrAt), new JsLionUpdate(at, group, lrAt), 'C1', {
  note: (m) => notes.push(m),
  said: new Set(),
});
const rowIdx = new Int32Array(2 * B);
const g: BatchGrads = {
  rowIdx,
  B: 2 * B,
  F: 1,
  gx: new Float32Array(2 * B * D).map(() => Math.random() - 0.5),
  I: D,
  dlogit: new Float32Array(2 * B).map(() => Math.random() - 0.5),
};

console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}; MemAvailable ${gib(available())} GiB; ` +
    `filling to ${start} rows untimed, then batches of ${B} new ids + ${B} random old rows to ${target}`,
);
let step = 0,
  t0 = performance.now();
/** One batch: admit n new ids, update them and n random existing rows. */
const batch = (n: number): void => {
  for (let i = 0; i < n; i++) rowIdx[i] = t.findOrAdmit(next(), next());
  for (let i = 0; i < n; i++) rowIdx[n + i] = next() % t.size;
  g.B = 2 * n;
  update.apply(g, step++);
};
while (t.size < start) batch(Math.min(B, start - t.size));
console.log(`fill: ${((performance.now() - t0) / 1000).toFixed(1)} s`);

type Batch = { ms: number; rows: number; from: number; to: number; rowsMs: number; allMs: number; kernel: string };
const log: Batch[] = [];
const kernel = (): string => (update.fellBack || !t.rows.memory ? 'js' : 'wasm');
let nextMark = 10 ** Math.ceil(Math.log10(t.size + 1));
const marks: string[] = [];
while (t.size < target) {
  const from = t.capacity;
  growth.rowsMs = growth.allMs = 0;
  t0 = performance.now();
  batch(Math.min(B, target - t.size));
  const ms = performance.now() - t0;
  log.push({ ms, rows: t.size, from, to: t.capacity, rowsMs: growth.rowsMs, allMs: growth.allMs, kernel: kernel() });
  if (t.size >= nextMark || t.size >= target) {
    const rss = process.memoryUsage().rss;
    marks.push(
      `${t.size.toExponential(2)} rows: RSS ${gib(rss)} GiB, table ${gib(t.bytes)} GiB ` +
        `(${(t.bytes / t.size).toFixed(1)} B/row allocated, ${(t.bytes / t.capacity).toFixed(1)} B/row of capacity ` +
        `${t.capacity}), RSS/row ${(rss / t.size).toFixed(1)} B, ${t.rows.chunks.length} chunks, kernel ${kernel()}`,
    );
    console.log(marks[marks.length - 1]);
    if (t.size >= nextMark) nextMark *= 10;
  }
  if (log.length % 16 === 0 && available() < minFree) {
    console.error(`bench/table-growth: MemAvailable ${gib(available())} GiB < --min-free-gib: stopping at ${t.size}`);
    process.exit(3);
  }
}
const sorted = log.map((b) => b.ms).sort((a, b) => a - b);
const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
console.log(
  `${log.length} batches: median ${q(0.5).toFixed(2)} ms, p99 ${q(0.99).toFixed(2)} ms, ` +
    `max ${sorted[sorted.length - 1].toFixed(0)} ms; ${notes.join('; ') || 'wasm kernel throughout'}`,
);
console.log(`largest ${top} batches (ms | rows after | growth capacity | of it: resize ms, rows realloc ms | kernel):`);
for (const b of [...log].sort((x, y) => y.ms - x.ms).slice(0, top)) {
  const grew = b.to !== b.from ? `${b.from} -> ${b.to}` : 'none';
  console.log(
    `  ${b.ms.toFixed(0)} | ${b.rows} | ${grew} | ${b.allMs.toFixed(0)}, ${b.rowsMs.toFixed(0)} | ${b.kernel}`,
  );
}
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}; MemAvailable ${gib(available())} GiB`,
);
