/**
 * Sparse Lion step throughput against the memory-latency floor (issue "Lion, exactly"):
 * for tables of 10^5, 10^6 and 10^7 rows of dim 16, 200k touched ids per step (uniform,
 * duplicates possible), it times
 *   - floor: a loop that only reads the touched rows (sums their 16 floats),
 *   - full step: dedupe + segment-sum (RowGradients) + catch-up + update (sparseLionStep),
 *     in lazy and exact mode, float32 and bfloat16 momentum,
 * on the same ids in the same run, and prints rows/s and the ratio to the floor.
 *
 *   npx tsx bench/sparse-step.ts [--sizes 100000,1000000,10000000] [--touched 200000] [--reps 5]
 */
import { parseArgs } from 'node:util';
import { RowGradients } from '../src/train/optim/row-gradients.ts';
import { sparseLionStep, type SparseMode, type SparseRows } from '../src/train/optim/sparse-lion.ts';
import { RowStore } from '../src/model/row-store.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '100000,1000000,10000000' }, touched: { type: 'string', default: '200000' }, reps: { type: 'string', default: '5' }, help: { type: 'boolean' } } });
if (values.help) { console.log('usage: npx tsx bench/sparse-step.ts [--sizes 100000,1000000,10000000] [--touched 200000] [--reps 5]'); process.exit(0); }
const W = 16, T = Number(values.touched), reps = Number(values.reps);
let seed = 12345;
const rand = () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 4294967296; };
const params = { lr: 1e-3, beta1: 0.9, beta2: 0.99, weightDecay: 0.01 };

console.log(`sparse Lion step, dim ${W}, ${T} touched ids per step, best of ${reps}`);
console.log('rows        table MB  floor rows/s  lazy f32      ratio  exact f32     ratio  lazy bf16     ratio');
for (const R of values.sizes.split(',').map(Number)) {
  const make = (bf: boolean): SparseRows => {
    const rows = new RowStore(W, R, bf ? 'bfloat16' : 'float32');
    for (let r = 0; r < R; r++) { for (let j = 0; j < W; j++) rows.data[r * rows.stride + j] = rand() - 0.5; rows.setLastStep(r, -1); }
    return rows;
  };
  const rowsF = make(false);
  // the floor reads plain [R, 16] float32 rows (64 B each), as the issue defines it
  const plain = new Float32Array(R * W).map(() => rand() - 0.5);
  const ids = new Int32Array(T);
  const gx = new Float32Array(T * (W - 1)).map(() => rand() - 0.5), dl = new Float32Array(T).map(() => rand() - 0.5);
  const best = (f: () => void) => { let b = Infinity; for (let i = 0; i < reps; i++) { for (let j = 0; j < T; j++) ids[j] = Math.floor(rand() * R); const t0 = performance.now(); f(); b = Math.min(b, performance.now() - t0); } return T / (b / 1000); };
  let sink = 0;
  const floor = best(() => { const w = plain; let s = 0; for (let i = 0; i < T; i++) { const o = ids[i] * W; for (let j = 0; j < W; j++) s += w[o + j]; } sink += s; });
  const rg = new RowGradients(W, T);
  let step = 0;
  const full = (rows: SparseRows, mode: SparseMode) => best(() => { rg.accumulate(ids, T, 1, 0, gx, W - 1, 0, dl, R); sparseLionStep(rows, rg.rowIds, rg.n, rg.grads, { embedding: params, mode }, step += 3); });
  const lazy = full(rowsF, 'lazy');
  const exact = full(rowsF, 'exact');
  const rowsB = make(true);
  const lazyB = full(rowsB, 'lazy');
  const mb = rowsF.bytes / 2 ** 20;
  const f = (x: number) => `${(x / 1e6).toFixed(2)}M`.padEnd(12);
  console.log(`${String(R).padEnd(11)} ${mb.toFixed(0).padStart(8)}  ${f(floor)}  ${f(lazy)}  ${(lazy / floor).toFixed(2)}   ${f(exact)}  ${(exact / floor).toFixed(2)}   ${f(lazyB)}  ${(lazyB / floor).toFixed(2)}`);
  if (sink === 42) console.log('');
}
const f32 = new RowStore(W, 1, 'float32'), b16 = new RowStore(W, 1, 'bfloat16');
console.log(`memory per row (dim ${W}, one block: weights + momentum + lastStep + update count): ${f32.stride * 4} B with float32 momentum, ${b16.stride * 4} B with bfloat16; plus in EmbeddingTable the id (8 B) and ~2 map slots (12 B each)`);
