/**
 * Cost of the divergence guards of issue 11 next to the training step they guard (synthetic
 * stream, dim 16, MLP 256-128 as bench/throughput.ts): the per-step check (loss + the sum of
 * every gradient, one scalar read; timed on tensors of the step's gradient shapes), the
 * weight scan before a checkpoint or export (nonFiniteWeights), and the forward pass that
 * scores the last batch before a write (logitsFinite).
 *
 *   npx tsx bench/nonfinite-check.ts [--backend wasm] [--steps 20] [--batch 4096] [--reps 50]
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import type { FeatureBatch } from '../src/features/feature-batch.ts';
import { Featurizer } from '../src/features/featurizer.ts';
import { criteoSlots } from '../src/features/schema.ts';
import { createSyntheticSource } from '../src/ingest/synthetic-source.ts';
import { selectBackend, type BackendName } from '../src/model/backend.ts';
import { CtrModel } from '../src/model/ctr-model.ts';
import { logitsFinite, nonFiniteWeights } from '../src/train/finite-check.ts';
import { TrainStep } from '../src/train/train-step.ts';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    steps: { type: 'string', default: '20' },
    batch: { type: 'string', default: '4096' },
    reps: { type: 'string', default: '50' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log('usage: npx tsx bench/nonfinite-check.ts [--backend wasm] [--steps 20] [--batch 4096] [--reps 50]');
  process.exit(0);
}
const steps = Number(values.steps),
  B = Number(values.batch),
  reps = Number(values.reps);
await selectBackend(values.backend as BackendName);
const schema = { ...criteoSlots(), embeddingDim: 16 };
const model = new CtrModel(schema, { hidden: [256, 128], initStd: 0.01, seed: 1 });
const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
const step = new TrainStep(model, { dense: lp(3e-4), embedding: lp(3e-3), linear: lp(3e-3) });
const fz = new Featurizer(schema);
const batches: FeatureBatch[] = [];
for await (const rb of createSyntheticSource({ seed: 1, limit: (steps + 3) * B }).batches({ batchSize: B }))
  batches.push(fz.fromRecordBatch(rb));
let tStep = 0;
batches.forEach((b, k) => {
  const t = performance.now();
  step.run(b);
  if (k >= 3) tStep += performance.now() - t; // 3 warm-up steps
});
const stepMs = tStep / steps;

// the check as TrainStep.run makes it, on tensors of its shapes: [B, I] and one per tower variable
const shapes = [[B, model.inputDim], ...model.tower.vars.map((v) => v.shape)];
const grads = shapes.map((s) => tf.randomNormal(s));
const loss = tf.scalar(0.5);
const check = () => tf.tidy(() => tf.addN([loss, ...grads.map((g) => tf.sum(g))]).dataSync()[0]);
for (let i = 0; i < 5; i++) check();
let t = performance.now();
for (let i = 0; i < reps; i++) check();
const checkMs = (performance.now() - t) / reps;

const weights =
  model.tower.vars.reduce((a, v) => a + v.size, 0) + model.tables.reduce((a, x) => a + x.size * x.width, 0);
t = performance.now();
for (let i = 0; i < 5; i++) nonFiniteWeights(model);
const scanMs = (performance.now() - t) / 5;
t = performance.now();
for (let i = 0; i < 5; i++) logitsFinite(model, batches[batches.length - 1]);
const logitsMs = (performance.now() - t) / 5;

console.log(
  `backend ${values.backend}, batch ${B}, dim 16, MLP 256-128, ${steps} timed steps (after 3 warm-up), 2-core machine`,
);
console.log(`training step                 ${stepMs.toFixed(1)} ms`);
console.log(
  `per-step check (loss + sums)   ${checkMs.toFixed(2)} ms = ${((100 * checkMs) / stepMs).toFixed(1)}% of a step`,
);
console.log(
  `weight scan before a write    ${scanMs.toFixed(1)} ms for ${weights} weights ` +
    `(${((scanMs * 1e6) / weights).toFixed(2)} ns/weight)`,
);
console.log(`logits of the last batch      ${logitsMs.toFixed(1)} ms per checkpoint or export`);
for (const g of grads) g.dispose();
loss.dispose();
model.dispose();
