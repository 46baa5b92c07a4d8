/**
 * The row layout's two hot paths, this checkout's against another's (`--compare DIR`: a branch that
 * changes RowStore's layout against main), interleaved in one process (A B A B): F = 39
 * tables of floor(rows / 39) rows each (dim 16, W = 17, `--momentum` float32 or bfloat16), each
 * table's rows moved into a WebAssembly memory (as training does), the same random weights in
 * both; then `--reps` rounds of, for each checkout in alternating order:
 *   - gather: fillInput (row-gather.ts) of a batch of `--batch` examples x 39 slots, ids uniform
 *     over each table's rows, into the [B, 637] tower input (the forward's read of the rows);
 *   - sparse: the WebAssembly sparse Lion kernel's step of every slot on that batch (lazy mode,
 *     random gradients): the read-modify-write of weights and momentum.
 * It checks both give the same x and the same rows after each round (same bits), and prints the
 * median ms of each path per checkout, the median of the per-round ratios (other / this) with
 * their range, and the load average.
 *
 *   npx tsx bench/row-layout.ts --compare ../main [--rows 100000] [--batch 4096] [--reps 9] [--momentum float32]
 */
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: v } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '4096' },
    reps: { type: 'string', default: '9' },
    momentum: { type: 'string', default: 'float32' },
    compare: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
const usage =
  'npx tsx bench/row-layout.ts --compare DIR [--rows 100000] [--batch 4096] [--reps 9] [--momentum float32|bfloat16]';
if (v.help || !v.compare) {
  console.log(usage);
  process.exit(v.help ? 0 : 2);
}
const F = 39,
  D = 16,
  W = D + 1,
  N = 13,
  I = F * D + N,
  B = Number(v.batch),
  R = Math.floor(Number(v.rows) / F),
  reps = Number(v.reps),
  dtype = v.momentum as 'float32' | 'bfloat16';

/** What the bench uses of a checkout's RowStore (its own class, loaded from that checkout). */
interface Store {
  setWeights(r: number, v: ArrayLike<number>): void;
  getWeights(r: number): Float32Array;
}
/** What the bench uses of a checkout's WasmSparseLion. */
interface Kernel {
  step(g: object, f: number, col: number, group: object, step: number): boolean;
}

/** One checkout's row stores, gather and kernels. */
interface Side {
  name: string;
  stores: Store[];
  kernels: Kernel[];
  fillInput: (...a: unknown[]) => void;
  x: Float32Array;
  wide: Float32Array;
  gatherMs: number[];
  sparseMs: number[];
}

async function side(dir: string): Promise<Side> {
  const src = (p: string) => import(join(dir, 'src', p));
  const { RowStore } = await src('model/row-store.ts');
  const { fillInput } = await src('model/row-gather.ts');
  const { WasmSparseLion } = await src('train/optim/wasm/sparse-kernel.ts');
  const { useWasmMemory } = await src('train/optim/wasm/wasm-memory.ts');
  const stores: Store[] = Array.from({ length: F }, () => new RowStore(W, R, dtype));
  let s = 12345;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const row = new Float32Array(W);
  for (const st of stores) {
    for (let r = 0; r < R; r++) {
      for (let j = 0; j < W; j++) row[j] = rand();
      st.setWeights(r, row);
    }
    const why = useWasmMemory(st);
    if (why) throw new Error(`${dir}: ${why}`);
  }
  return {
    name: dir,
    stores,
    kernels: stores.map((st) => new WasmSparseLion(st) as Kernel),
    fillInput,
    x: new Float32Array(B * I),
    wide: new Float32Array(B),
    gatherMs: [],
    sparseMs: [],
  };
}

const here = resolve(import.meta.dirname, '..');
const sides = [await side(here), await side(resolve(v.compare))];
const dense = new Float32Array(B * N).map(() => Math.random());
const gx = new Float32Array(B * I),
  dlogit = new Float32Array(B);
const group = { embedding: { lr: 3e-3, beta1: 0.9, beta2: 0.99, weightDecay: 0 }, mode: 'lazy' as const };
const gatherRatios: number[] = [],
  sparseRatios: number[] = [];
const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
let step = 0;
for (let rep = 0; rep < reps + 1; rep++) {
  const rowIdx = new Int32Array(B * F).map(() => Math.floor(Math.random() * R));
  for (let i = 0; i < gx.length; i++) gx[i] = Math.random() - 0.5;
  for (let i = 0; i < B; i++) dlogit[i] = Math.random() - 0.5;
  step++;
  const order = rep % 2 ? [1, 0] : [0, 1];
  const g: number[] = [],
    sp: number[] = [];
  for (const k of order) {
    const sd = sides[k];
    let t0 = performance.now();
    sd.fillInput(rowIdx, B, sd.stores, Array(F).fill(D), dense, N, sd.x, I, sd.wide);
    g[k] = performance.now() - t0;
    t0 = performance.now();
    for (let f = 0; f < F; f++)
      if (!sd.kernels[f].step({ rowIdx, B, F, gx, I, dlogit }, f, f * D, group, step))
        throw new Error('kernel scratch does not fit');
    sp[k] = performance.now() - t0;
  }
  if (!sides[0].x.every((a, i) => Object.is(a, sides[1].x[i]))) throw new Error('the two gathers differ');
  for (let f = 0; f < F; f += 13)
    for (let r = 0; r < R; r += 97) {
      const a = sides[0].stores[f].getWeights(r),
        b = sides[1].stores[f].getWeights(r);
      if (!a.every((q, j) => Object.is(q, b[j]))) throw new Error(`rows differ (table ${f} row ${r})`);
    }
  if (rep === 0) continue; // warm-up
  sides.forEach((sd, k) => {
    sd.gatherMs.push(g[k]);
    sd.sparseMs.push(sp[k]);
  });
  gatherRatios.push(g[1] / g[0]);
  sparseRatios.push(sp[1] / sp[0]);
}
const range = (a: number[]) => `${Math.min(...a).toFixed(2)}-${Math.max(...a).toFixed(2)}`;
console.log(
  `row-layout: ${F} tables x ${R} rows (${dtype} momentum), batch ${B}, ${reps} rounds; ` +
    `this ${here}, other ${resolve(v.compare)}`,
);
for (const sd of sides)
  console.log(
    `${sd.name}: gather ${med(sd.gatherMs).toFixed(2)} ms (${range(sd.gatherMs)}), ` +
      `sparse step ${med(sd.sparseMs).toFixed(2)} ms (${range(sd.sparseMs)})`,
  );
console.log(
  `other / this, median of ${reps} rounds: gather ${med(gatherRatios).toFixed(2)}x (${range(gatherRatios)}), ` +
    `sparse step ${med(sparseRatios).toFixed(2)}x (${range(sparseRatios)}); load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
