/**
 * The training step's dense part before and after issue 13's hand-written pass, interleaved in
 * one process on one tfjs backend: tower forward, weighted logloss, gradients for the tower input
 * and every variable, the finite check, dense Lion on the tower (TrainStep.dense) and the
 * read-backs (predictions, loss, input gradient), on config/criteo.json's model.
 *
 *   npx tsx bench/tower-step.ts [--backend wasm|tensorflow|cpu] [--batch 4096] [--steps 6] [--rounds 3]
 *
 * `taped`: tf.valueAndGrads of the deep logits and four reads (the trainer before issue 13);
 * `hand`: src/model/deep-pass.ts and one packed read plus the input gradient (TrainStep.run now).
 * Each round runs --steps steps of each pass alternately (A B B A ...); it prints per round the
 * median wall and CPU ms per step of each pass (CPU time counts every thread; it is less swayed
 * than wall time by other work on the cores) and the 1-min load average, then per pass the median
 * over rounds, its range, and hand's speed-up over taped.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { featureSchemaOf } from '../src/cli/common.ts';
import { modelOf, optimConfigOf } from '../src/cli/model-setup.ts';
import { loadConfig } from '../src/config/schema.ts';
import { type BackendName, selectBackend } from '../src/model/backend.ts';
import { deepBackward, deepForward } from '../src/model/deep-pass.ts';
import { TrainStep } from '../src/train/train-step.ts';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: '4096' },
    steps: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '3' },
  },
});
const [B, steps, rounds] = [values.batch, values.steps, values.rounds].map(Number);
await selectBackend(values.backend as BackendName);
const cfg = loadConfig(['config/criteo.json'], []);
const model = modelOf(cfg, featureSchemaOf(cfg));
const step = new TrainStep(model, optimConfigOf(cfg, model.slots));
const I = model.inputDim;
const rnd = (n: number, scale: number) => Float32Array.from({ length: n }, () => (Math.random() * 2 - 1) * scale);
const x = rnd(B * I, 0.05),
  wide = rnd(B, 0.1);
const labels = Float32Array.from({ length: B }, () => (Math.random() < 0.25 ? 1 : 0));
const weights = new Float32Array(B).fill(1);
const sumW = B;

type Pass = 'taped' | 'hand';
const sink = { p: 0, g: 0 };

/** One dense part of a step by `pass` (the update included). */
function run(pass: Pass): void {
  tf.tidy(() => {
    const xt = tf.tensor2d(x, [B, I]);
    const [y, w, wd] = [tf.tensor1d(labels), tf.tensor1d(weights), tf.tensor1d(wide)];
    const lossOf = (z: tf.Tensor) => {
      const l = tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
      return tf.div(tf.sum(tf.mul(l, w)), sumW) as tf.Scalar;
    };
    if (pass === 'taped') {
      let zk: tf.Tensor | undefined;
      const f = (xIn: tf.Tensor, ...vars: tf.Tensor[]) => {
        const z = tf.add(model.deepLogits(xIn as tf.Tensor2D, vars), wd);
        zk = tf.keep(z);
        return lossOf(z);
      };
      const { value, grads } = tf.valueAndGrads(f)([xt, ...model.tower.vars]);
      if (Number.isFinite(tf.addN([value, ...grads.map((g) => tf.sum(g))]).dataSync()[0]))
        step.dense.apply(grads.slice(1), step.step);
      sink.p += tf.sigmoid(zk as tf.Tensor).dataSync()[0];
      sink.g += grads[0].dataSync()[0] + value.dataSync()[0];
      zk?.dispose();
    } else {
      const fwd = deepForward(model, xt);
      const z = tf.add(fwd.logits, wd) as tf.Tensor1D;
      const value = lossOf(z);
      const p = tf.sigmoid(z);
      const grads = deepBackward(model, tf.div(tf.mul(tf.sub(p, y), w), sumW) as tf.Tensor1D, fwd);
      const check = tf.addN([value, ...grads.map((g) => tf.sum(g))]);
      const read = tf.concat([p, tf.reshape(value, [1]), tf.reshape(check, [1])]).dataSync();
      if (Number.isFinite(read[B + 1])) step.dense.apply(grads.slice(1), step.step);
      sink.p += read[0];
      sink.g += grads[0].dataSync()[0] + read[B];
    }
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const passes: Pass[] = ['taped', 'hand'];
const wall = new Map<Pass, number[]>(passes.map((p) => [p, []]));
const cpu = new Map<Pass, number[]>(passes.map((p) => [p, []]));
const ratios: number[] = [];
console.log(
  `${tf.getBackend()}: dense part of a step, batch ${B}, tower ${I} -> ${cfg.model.hidden.join(' -> ')} -> 1`,
);
for (const pass of passes) run(pass); // warm-up
const before = tf.memory().numTensors;
for (let r = 0; r < rounds; r++) {
  const w = new Map<Pass, number[]>(passes.map((p) => [p, []]));
  const c = new Map<Pass, number[]>(passes.map((p) => [p, []]));
  for (let s = 0; s < steps; s++)
    for (const pass of s % 2 ? [...passes].reverse() : passes) {
      const t0 = performance.now(),
        c0 = process.cpuUsage();
      run(pass);
      const cu = process.cpuUsage(c0);
      w.get(pass)?.push(performance.now() - t0);
      c.get(pass)?.push((cu.user + cu.system) / 1e3);
    }
  const said = passes.map((p) => {
    const [mw, mc] = [median(w.get(p) ?? []), median(c.get(p) ?? [])];
    wall.get(p)?.push(mw);
    cpu.get(p)?.push(mc);
    return `${p} ${mw.toFixed(1)} ms (cpu ${mc.toFixed(1)} ms)`;
  });
  ratios.push(median(w.get('taped') ?? []) / median(w.get('hand') ?? []));
  console.log(`round ${r + 1}: ${said.join(', ')}; load ${loadavg()[0].toFixed(2)}`);
}
for (const pass of passes) {
  const ms = wall.get(pass) ?? [];
  const range = `${Math.min(...ms).toFixed(1)}-${Math.max(...ms).toFixed(1)}`;
  const cms = median(cpu.get(pass) ?? []);
  console.log(`${pass}: median ${median(ms).toFixed(1)} ms/step (range ${range}), cpu ${cms.toFixed(1)} ms/step`);
}
const [t, h] = passes.map((p) => median(wall.get(p) ?? []));
const [tc, hc] = passes.map((p) => median(cpu.get(p) ?? []));
console.log(
  `hand vs taped: ${(t / h).toFixed(2)}x faster wall (per round ${Math.min(...ratios).toFixed(2)}-` +
    `${Math.max(...ratios).toFixed(2)}x), ${(tc / hc).toFixed(2)}x less cpu; ` +
    `tensors held after: ${tf.memory().numTensors - before} more than before`,
);
console.log(
  `load average (1, 5, 15 min): ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
if (!Number.isFinite(sink.p + sink.g)) console.log('WARNING: a non-finite prediction, loss or gradient was read');
model.dispose();
step.denseLion.dispose();
