/**
 * The pieces of the wasm training step that issue 13's wasm changes touch, old against new,
 * interleaved in one process at batch --batch on config/criteo.json's tower (637 -> 256 -> 128):
 *   transpose [B, I]:  tfjs-backend-wasm's Transpose kernel | the tiled one (src/model/wasm-transpose.ts)
 *   read gx [B, I]:    dataSync (a new array) | Float32Reader (src/model/float32-reader.ts)
 *   dW0 = x^T da:      matMul(x, da, transposeA) (x copied transposed) | (da^T x)^T (tower-pass.ts weightGrad)
 *   dW1 = h1^T da1:    the same for the second layer
 *   dense step:        forward, logloss, backward, dense Lion and the read-backs (TrainStep.run's
 *                      dense part) with tfjs's Transpose and dataSync (main) | with both changes
 *                      (weightGrad's form in both: the dW rows above compare it)
 *
 *   LIONCTR_WASM_THREADS=2 npx tsx bench/wasm-step.ts [--batch 4096] [--rounds 9] [--only <case prefix>]
 *
 * Each round runs every case once in turn (order alternating); prints per case the wall ms
 * min / median / max over rounds and the median CPU ms (all threads), and the load average.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { featureSchemaOf } from '../src/cli/common.ts';
import { modelOf, optimConfigOf } from '../src/cli/model-setup.ts';
import { loadConfig } from '../src/config/schema.ts';
import { selectBackend } from '../src/model/backend.ts';
import { deepBackward, deepForward } from '../src/model/deep-pass.ts';
import { Float32Reader } from '../src/model/float32-reader.ts';
import { TrainStep } from '../src/train/train-step.ts';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '4096' },
    rounds: { type: 'string', default: '9' },
    only: { type: 'string' },
  },
});
const [B, rounds] = [Number(values.batch), Number(values.rounds)];
const only = values.only;
const [I, H0, H1] = [637, 256, 128];
// tfjs's own Transpose, taken before selectBackend re-registers it
const tfjsTranspose = tf.getKernel('Transpose', 'wasm');
await selectBackend('wasm');
if (!tfjsTranspose) throw new Error('no wasm Transpose kernel registered');
const be = tf.backend() as unknown as { disposeData(id: object): void };
const r = (s: [number, number]) => tf.randomUniform(s, -0.1, 0.1) as tf.Tensor2D;
const [x, da, h1, da1] = [r([B, I]), r([B, H0]), r([B, H0]), r([B, H1])];
const reader = new Float32Reader();
const tiledTranspose = tf.getKernel('Transpose', 'wasm') as tf.KernelConfig;
/** Registers `k` as wasm's Transpose (the BatchMatMul patch looks it up per call). */
function useTranspose(k: tf.KernelConfig): void {
  tf.unregisterKernel('Transpose', 'wasm');
  tf.registerKernel(k);
}

const cfg = loadConfig(['config/criteo.json'], []);
const model = modelOf(cfg, featureSchemaOf(cfg));
const step = new TrainStep(model, optimConfigOf(cfg, model.slots));
if (model.inputDim !== I) throw new Error(`config/criteo.json's tower input is ${model.inputDim}, not ${I}`);
const xs = new Float32Array(B * I).map(() => (Math.random() * 2 - 1) * 0.05);
const labels = Float32Array.from({ length: B }, () => (Math.random() < 0.25 ? 1 : 0));
const wts = new Float32Array(B).fill(1);
const stepReader = new Float32Reader();
/** TrainStep.run's dense part: with tfjs's Transpose and dataSync (`main`) or this branch's. */
function dense(main: boolean): void {
  if (main) useTranspose(tfjsTranspose as tf.KernelConfig);
  try {
    tf.tidy(() => {
      const [xt, y, w] = [tf.tensor2d(xs, [B, I]), tf.tensor1d(labels), tf.tensor1d(wts)];
      const fwd = deepForward(model, xt);
      const z = fwd.logits;
      const l = tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
      const value = tf.div(tf.sum(tf.mul(l, w)), B);
      const p = tf.sigmoid(z);
      const grads = deepBackward(model, tf.div(tf.mul(tf.sub(p, y), w), B) as tf.Tensor1D, fwd);
      const check = tf.addN([value, ...grads.map((g) => tf.sum(g))]);
      const read = tf.concat([p, tf.reshape(value, [1]), tf.reshape(check, [1])]).dataSync();
      if (Number.isFinite(read[B + 1])) step.dense.apply(grads.slice(1), step.step);
      if (main) grads[0].dataSync();
      else stepReader.read(grads[0]);
    });
  } finally {
    if (main) useTranspose(tiledTranspose);
  }
}

const cases: Record<string, () => void> = {
  'transpose [B, I] tfjs': () => {
    const y = tfjsTranspose.kernelFunc({ inputs: { x }, backend: tf.backend(), attrs: { perm: [1, 0] } });
    be.disposeData((y as tf.TensorInfo).dataId);
  },
  'transpose [B, I] tiled': () => tf.transpose(x).dispose(),
  'read gx dataSync': () => void x.dataSync(),
  'read gx Float32Reader': () => void reader.read(x),
  'dW0 x^T da (old)': () => tf.tidy(() => void tf.matMul(x, da, true, false)),
  'dW0 (da^T x)^T (new)': () => tf.tidy(() => void tf.transpose(tf.matMul(tf.transpose(da), x))),
  'dW1 h1^T da1 (old)': () => tf.tidy(() => void tf.matMul(h1, da1, true, false)),
  'dW1 (da1^T h1)^T (new)': () => tf.tidy(() => void tf.transpose(tf.matMul(tf.transpose(da1), h1))),
  'dense step main': () => dense(true),
  'dense step this': () => dense(false),
};
const names = Object.keys(cases).filter((n) => !only || n.startsWith(only));
const wall = new Map<string, number[]>(names.map((n) => [n, []]));
const cpu = new Map<string, number[]>(names.map((n) => [n, []]));
for (const n of names) cases[n](); // warm-up
for (let k = 0; k < rounds; k++)
  for (const n of k % 2 ? [...names].reverse() : names) {
    const t0 = performance.now(),
      c0 = process.cpuUsage();
    cases[n]();
    const c = process.cpuUsage(c0);
    wall.get(n)?.push(performance.now() - t0);
    cpu.get(n)?.push((c.user + c.system) / 1e3);
  }
const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
console.log(
  `wasm (${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'threaded' : '1 thread'}), batch ${B}, ` +
    `${rounds} rounds: wall ms min / median / max, cpu ms median`,
);
for (const n of names) {
  const w = wall.get(n) ?? [];
  const f = (v: number) => v.toFixed(1).padStart(6);
  console.log(
    `${n.padEnd(24)} ${f(Math.min(...w))} ${f(med(w))} ${f(Math.max(...w))}   cpu ${f(med(cpu.get(n) ?? []))}`,
  );
}
const [dm, dt] = [med(wall.get('dense step main') ?? [NaN]), med(wall.get('dense step this') ?? [NaN])];
if (Number.isFinite(dm / dt))
  console.log(`dense step: this branch ${(dm / dt).toFixed(2)}x main's speed (median wall)`);
console.log(
  `load average (1, 5, 15 min): ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
