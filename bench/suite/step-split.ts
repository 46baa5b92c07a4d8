/**
 * Where the time of lionctr's train step goes, for the suite: a replica of TrainStep.run
 * (src/train/train-step.ts) built from the same public parts (CtrModel.gather, the tower,
 * TrainStep.dense, TrainStep.sparseUpdates), each phase timed on its own:
 *   lookup:   gather (row lookup, admission, tower input; into arrays reused step after step,
 *             as TrainStep.run gathers);
 *   forward:  the tower and the loss alone, the loss read back (a separate pass);
 *   backward: the forward and backward pass (src/model/deep-pass.ts) and the step's read-backs
 *             (predictions, loss and finite check packed; the input gradient) less the forward
 *             pass's time: the backward pass and the read-backs;
 *   dense:    Lion on the tower (TrainStep.dense.apply);
 *   sparse:   dLoss/dlogit and the sparse Lion steps of every table.
 * The replica skips the non-finite branch and the row listeners (none in the bench). It trains
 * (it advances TrainStep.step), so run it after the timed steps, never among them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FeatureBatch } from '../../src/features/feature-batch.ts';
import type { BatchGrads } from '../../src/train/optim/batch-grads.ts';
import type { TrainStep } from '../../src/train/train-step.ts';
import { deepBackward, deepForward } from '../../src/model/deep-pass.ts';
import { GatherBuffers } from '../../src/model/gather-buffers.ts';

/** Milliseconds spent per phase (summed over the steps timed). */
export interface StepPhases {
  lookup: number;
  forward: number;
  backward: number;
  dense: number;
  sparse: number;
}

/** The arrays each replica step gathers into (TrainStep.run keeps its own likewise). */
const gathered = new WeakMap<TrainStep, GatherBuffers>();

/** Zero phases. */
export const noPhases = (): StepPhases => ({ lookup: 0, forward: 0, backward: 0, dense: 0, sparse: 0 });

/** One step of `step` on `batch` with its phases' milliseconds added to `t`. */
export function timedStep(step: TrainStep, batch: FeatureBatch, t: StepPhases): void {
  const m = step.model,
    B = batch.size,
    I = m.inputDim,
    now = () => performance.now();
  let a = now();
  for (const tb of m.tables) tb.clock = step.step;
  const bufs = gathered.get(step) ?? new GatherBuffers();
  gathered.set(step, bufs);
  const g = m.gather(batch, true, undefined, bufs);
  let sumW = 0;
  for (let b = 0; b < B; b++) sumW += batch.weights[b];
  t.lookup += now() - a;
  const lossOf = (z: tf.Tensor, y: tf.Tensor, w: tf.Tensor): tf.Scalar => {
    const l = tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
    return tf.div(tf.sum(tf.mul(l, w)), sumW) as tf.Scalar;
  };
  a = now();
  tf.tidy(() => {
    const x = tf.tensor2d(g.x, [B, I]);
    const z = tf.add(deepForward(m, x).logits, tf.tensor1d(g.wide));
    lossOf(z, tf.tensor1d(batch.labels), tf.tensor1d(batch.weights)).dataSync();
  });
  const forward = now() - a;
  t.forward += forward;
  let predictions: Float32Array = new Float32Array(0),
    gx: Float32Array = new Float32Array(0);
  a = now();
  tf.tidy(() => {
    const x = tf.tensor2d(g.x, [B, I]);
    const y = tf.tensor1d(batch.labels),
      w = tf.tensor1d(batch.weights);
    const fwd = deepForward(m, x);
    const z = tf.add(fwd.logits, tf.tensor1d(g.wide)) as tf.Tensor1D;
    const value = lossOf(z, y, w);
    const p = tf.sigmoid(z);
    const grads = deepBackward(m, tf.div(tf.mul(tf.sub(p, y), w), sumW) as tf.Tensor1D, fwd);
    const check = tf.addN([value, ...grads.map((gr) => tf.sum(gr))]);
    const read = tf.concat([p, tf.reshape(value, [1]), tf.reshape(check, [1])]).dataSync() as Float32Array;
    predictions = read.slice(0, B);
    const b = now();
    t.backward += b - a - forward;
    step.dense.apply(grads.slice(1), step.step);
    m.tower.vars[m.tower.vars.length - 1].dataSync(); // the update has run
    const c = now();
    t.dense += c - b;
    gx = grads[0].dataSync() as Float32Array;
    t.backward += now() - c;
  });
  a = now();
  const dlogit = new Float32Array(B);
  for (let b = 0; b < B; b++) dlogit[b] = (batch.weights[b] * (predictions[b] - batch.labels[b])) / sumW;
  const bg: BatchGrads = { rowIdx: g.rowIdx, B, F: m.slots.length, gx, I, dlogit };
  for (const u of step.sparseUpdates) u.apply(bg, step.step);
  step.step++;
  t.sparse += now() - a;
}
