/**
 * Per-request time of the dense tower when serving: tfjs (the process's backend, wasm here)
 * against onnxruntime-node on the export's ONNX graph, at 1, 16 and 256 rows, the default model's
 * tower (config/default.json, `--set` applies), phases interleaved, one thread each.
 *
 *   npx tsx bench/serving-tower.ts [--seconds 3] [--sizes 1,16,256] [--threads 1] [--set key=value]...
 *
 * Prints µs per request (mean, p99) for each and onnx/tfjs time ratios; `--threads` is
 * onnxruntime's intra-op thread count (0: its default, one per core).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { featureSchemaOf } from '../src/cli/common.ts';
import { modelOf } from '../src/cli/model-setup.ts';
import { loadConfig } from '../src/config/schema.ts';
import { selectBackend } from '../src/model/backend.ts';
import { ONNX_INPUT, ONNX_OUTPUT, towerToOnnx } from '../src/model/onnx-tower.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    sizes: { type: 'string', default: '1,16,256' },
    threads: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '2' },
    set: { type: 'string', multiple: true, default: [] },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(
    'usage: npx tsx bench/serving-tower.ts [--seconds 3] [--sizes 1,16,256] [--threads 1] [--set key=value]...',
  );
  process.exit(0);
}
const seconds = Number(values.seconds);
const cfg = loadConfig([], values.set);
const backend = await selectBackend(cfg.backend);
const model = modelOf(cfg, featureSchemaOf(cfg));
const I = model.inputDim;
const weights = model.tower.vars.map((v) => v.dataSync() as Float32Array);
const threads = Number(values.threads);
const session = await ort.InferenceSession.create(towerToOnnx(I, model.config.hidden, weights), {
  ...(threads > 0 ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});

const tfjs = async (x: Float32Array, B: number): Promise<Float32Array> =>
  tf.tidy(() => model.tower.logits(tf.tensor2d(x, [B, I])).dataSync() as Float32Array);
const onnx = async (x: Float32Array, B: number): Promise<Float32Array> => {
  const out = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', x, [B, I]) });
  return out[ONNX_OUTPUT].data as Float32Array;
};

/** Mean and p99 µs per call of `f` over `seconds`. */
async function time(f: typeof tfjs, x: Float32Array, B: number): Promise<{ mean: number; p99: number }> {
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t = performance.now();
    await f(x, B);
    lat.push((performance.now() - t) * 1000);
  }
  lat.sort((a, b) => a - b);
  return { mean: lat.reduce((a, b) => a + b, 0) / lat.length, p99: lat[Math.floor(lat.length * 0.99)] };
}

console.log(
  `tower ${I} -> ${model.config.hidden.join(' -> ')} -> 1; tfjs backend ${backend.backend}; ` +
    `onnxruntime threads ${threads || 'default'}; load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
console.log('  rows   tfjs µs  tfjs p99   onnx µs  onnx p99  onnx/tfjs   max |diff|');
for (let round = 0; round < Number(values.rounds); round++)
  for (const B of values.sizes.split(',').map(Number)) {
    const x = Float32Array.from({ length: B * I }, (_, i) => Math.sin(i * 0.37) * 0.5);
    const a = await tfjs(x, B),
      b = await onnx(x, B);
    let diff = 0;
    for (let i = 0; i < B; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
    const t = await time(tfjs, x, B),
      o = await time(onnx, x, B);
    const f = (v: number) => v.toFixed(1).padStart(9);
    console.log(
      `${String(B).padStart(6)} ${f(t.mean)} ${f(t.p99)} ${f(o.mean)} ${f(o.p99)} ` +
        `${(o.mean / t.mean).toFixed(2).padStart(10)}   ${diff.toExponential(1)}`,
    );
  }
await session.release();
model.dispose();
