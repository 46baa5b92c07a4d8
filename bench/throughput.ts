/**
 * Training throughput per tfjs backend on the synthetic stream (batch 4096, dim 16,
 * MLP 256-128 by default) and the memory used. Each backend runs in its own child process
 * (a backend is chosen once per process), on the same batches.
 *
 *   npx tsx bench/throughput.ts [--backends tensorflow,wasm,cpu] [--kernels wasm,js] [--steps 30] [--batch 4096]
 *
 * --kernels runs each backend with each sparse step kernel (optim.sparseKernel; default wasm).
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Featurizer } from '../src/features/featurizer.ts';
import { criteoSlots } from '../src/features/schema.ts';
import { createSyntheticSource } from '../src/ingest/synthetic-source.ts';
import { selectBackend, type BackendName } from '../src/model/backend.ts';
import { CtrModel } from '../src/model/ctr-model.ts';
import { TrainStep } from '../src/train/train-step.ts';

const { values } = parseArgs({
  options: {
    backends: { type: 'string', default: 'tensorflow,wasm,cpu' },
    steps: { type: 'string', default: '30' },
    batch: { type: 'string', default: '4096' },
    kernels: { type: 'string', default: 'wasm' },
    kernel: { type: 'string', default: 'wasm' },
    child: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(
    'usage: npx tsx bench/throughput.ts [--backends tensorflow,wasm,cpu] [--kernels wasm,js] ' +
      '[--steps 30] [--batch 4096]',
  );
  process.exit(0);
}
const steps = Number(values.steps),
  batch = Number(values.batch);

if (values.child) {
  const backend = values.child as BackendName;
  await selectBackend(backend);
  const schema = { ...criteoSlots(), embeddingDim: 16 };
  const model = new CtrModel(schema, { hidden: [256, 128], initStd: 0.01, seed: 1 });
  const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
  const step = new TrainStep(model, {
    dense: lp(3e-4),
    embedding: lp(3e-3),
    linear: lp(3e-3),
    sparseKernel: values.kernel as 'wasm' | 'js',
  });
  const fz = new Featurizer(schema);
  const src = createSyntheticSource({ seed: 1, limit: (steps + 3) * batch });
  let n = 0,
    t0 = 0,
    tFeat = 0,
    tStep = 0,
    k = 0;
  for await (const rb of src.batches({ batchSize: batch })) {
    if (k === 3) t0 = performance.now(); // 3 warm-up steps
    const a = performance.now();
    const fb = fz.fromRecordBatch(rb);
    const b = performance.now();
    step.run(fb);
    const c = performance.now();
    if (k >= 3) {
      n += fb.size;
      tFeat += b - a;
      tStep += c - b;
    }
    k++;
  }
  const secs = (performance.now() - t0) / 1000;
  const mem = process.memoryUsage();
  const rows = model.tables.reduce((a, t) => a + t.size, 0),
    bytes = model.tables.reduce((a, t) => a + t.bytes, 0);
  console.log(
    JSON.stringify({
      backend,
      examplesPerSecond: n / secs,
      stepMs: tStep / (k - 3),
      featurizeMs: tFeat / (k - 3),
      rssMb: mem.rss / 2 ** 20,
      heapMb: mem.heapUsed / 2 ** 20,
      rows,
      tableMb: bytes / 2 ** 20,
    }),
  );
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
console.log(
  `training throughput, synthetic stream, batch ${batch}, dim 16, MLP 256-128, ` +
    `${steps} timed steps (after 3 warm-up), 2-core machine`,
);
console.log('backend/kernel examples/s  step ms  featurize ms  RSS MB  rows     table MB (rows+momentum+map)');
const results: Record<string, number> = {};
const kernels = values.kernels.split(',');
for (const b of values.backends.split(','))
  for (const kern of kernels) {
    const name = kernels.length > 1 ? `${b}/${kern}` : b;
    try {
      const out = execFileSync(
        'npx',
        [
          'tsx',
          self,
          '--child',
          b,
          '--kernel',
          kern,
          '--steps',
          String(b === 'cpu' ? Math.min(steps, 5) : steps),
          '--batch',
          String(batch),
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const r = JSON.parse(out.trim().split('\n').pop()!);
      if (kern === kernels[0]) results[b] = r.examplesPerSecond;
      console.log(
        `${name.padEnd(14)} ${r.examplesPerSecond.toFixed(0).padStart(10)}  ${r.stepMs.toFixed(0).padStart(7)}  ` +
          `${r.featurizeMs.toFixed(0).padStart(12)}  ${r.rssMb.toFixed(0).padStart(6)}  ` +
          `${String(r.rows).padStart(7)}  ${r.tableMb.toFixed(1)}`,
      );
    } catch (e) {
      const msg =
        ((e as { stderr?: string }).stderr ?? String(e)).split('\n').find((l) => /^Error: /.test(l)) ?? 'failed';
      console.log(`${name.padEnd(14)} unavailable: ${msg.slice(0, 160)}`);
    }
  }
if (results.wasm && results.cpu) console.log(`ratio wasm/cpu: ${(results.wasm / results.cpu).toFixed(1)}x`);
if (results.tensorflow && results.wasm)
  console.log(`ratio tensorflow/wasm: ${(results.tensorflow / results.wasm).toFixed(1)}x`);
