import { featureSchemaOf } from '../src/cli/common.ts';
import { modelOf } from '../src/cli/model-setup.ts';
import { loadConfig } from '../src/config/schema.ts';
import { Featurizer } from '../src/features/featurizer.ts';
import { selectBackend } from '../src/model/backend.ts';
import { createServingTower } from '../src/model/serving-tower.ts';
await selectBackend('auto');
const cfg = loadConfig();
const schema = featureSchemaOf(cfg);
const model = modelOf(cfg, schema);
const f = new Featurizer(schema);
const rows = Number(process.argv[3] ?? 5000);
for (let s = 0; s < rows; s += 1000) {
  const batch = Array.from({ length: 1000 }, (_, i) => { const r: Record<string, unknown> = {}; for (const c of schema.categorical) r[c] = `v${s + i}`; for (const x of schema.numeric) r[x] = (s + i) % 1000; return r; });
  model.gather(f.fromInstances(batch), true);
}
model.servingTower = await createServingTower(model.tower, { kind: 'onnx', threads: 1 });
let seed = 1; const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
const B = Number(process.argv[2] ?? 16);
const sets = Array.from({ length: 16 }, () => Array.from({ length: B }, () => { const r: Record<string, unknown> = {}; for (const c of schema.categorical) r[c] = `v${rnd(Math.ceil(rows * 1.1))}`; for (const x of schema.numeric) r[x] = rnd(1000); return r; }));
const bodies = sets.map((s) => JSON.stringify({ instances: s }));
const time = async (name: string, fn: (i: number) => unknown) => {
  for (let i = 0; i < 200; i++) await fn(i);
  const n = 3000; const t = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  console.log(name.padEnd(12), (((performance.now() - t) / n) * 1000).toFixed(1), 'µs');
};
const batches = sets.map((s) => f.fromInstances(s));
const gs = batches.map((b) => model.gather(b, false));
await time('parse', (i) => JSON.parse(bodies[i % 16]));
await time('featurize', (i) => f.fromInstances(sets[i % 16]));
await time('gather', (i) => model.gather(batches[i % 16], false));
await time('onnx', (i) => model.servingTower!.logits(gs[i % 16].x, B));
await time('score', (i) => model.score(batches[i % 16]));
await time('predict', (i) => model.predict(batches[i % 16]));
await time('stringify', (i) => JSON.stringify({ predictions: Array.from(gs[i % 16].wide) }));
// variant: two passes (all finds first, then copies)
function gather2(batch: typeof batches[0]) {
  const m = model as any;
  const B = batch.size, F = m.slots.length, N = m.schema.numeric.length, I = m.inputDim;
  const rowIdx = new Int32Array(B * F);
  const x = new Float32Array(B * I);
  const wide = new Float32Array(B);
  for (let f = 0; f < F; f++) {
    const t = m.tables[f];
    for (let b = 0; b < B; b++) { const k = b * F + f; rowIdx[k] = t.find(batch.idHi[k], batch.idLo[k]); }
  }
  for (let f = 0; f < F; f++) {
    const t = m.tables[f], S = t.rows.stride, D = t.dim, co = m.colOffset[f], w = t.rows.data;
    for (let b = 0; b < B; b++) {
      const r = rowIdx[b * F + f];
      if (r < 0) continue;
      const ro = r * S, xo = b * I + co;
      wide[b] += w[ro];
      for (let j = 0; j < D; j++) x[xo + j] = w[ro + 1 + j];
    }
  }
  const dOff = I - N;
  for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) x[b * I + dOff + n] = batch.dense[b * N + n];
  return { rowIdx, x, wide };
}
for (let r = 0; r < 3; r++) {
  await time('gather', (i) => model.gather(batches[i % 16], false));
  await time('gather2', (i) => gather2(batches[i % 16]));
}
async function ab(fa: (i: number) => unknown, fb: (i: number) => unknown, label: string) {
  let ta = 0, tb = 0; const n = 20000;
  for (let i = 0; i < n; i++) {
    let t = performance.now(); await fa(i); ta += performance.now() - t;
    t = performance.now(); await fb(i); tb += performance.now() - t;
  }
  console.log(label, 'A', (ta / n * 1000).toFixed(1), 'B', (tb / n * 1000).toFixed(1), 'B/A', (tb / ta).toFixed(2));
}
await ab((i) => model.gather(batches[i % 16], false), (i) => gather2(batches[i % 16]), 'gather vs gather2');
await ab((i) => model.gather(batches[i % 16], false), (i) => gather2(batches[i % 16]), 'gather vs gather2');
await ab((i) => gather2(batches[i % 16]), (i) => model.gather(batches[i % 16], false), 'gather2 vs gather');
await ab((i) => gather2(batches[i % 16]), (i) => model.gather(batches[i % 16], false), 'gather2 vs gather');
