/**
 * One training step of the CTR model (DESIGN.md "Lion, sparse-aware"), with the optimizer
 * built once at construction (optim/optim-setup.ts): the step itself never branches on the
 * optimizer or the sparse kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FeatureBatch } from '../features/feature-batch.ts';
import type { CtrModel } from '../model/ctr-model.ts';
import { deepBackward, deepForward } from '../model/deep-pass.ts';
import { GatherBuffers } from '../model/gather-buffers.ts';
import { Float32Reader } from '../model/float32-reader.ts';
import type { DenseChain } from './optim/dense-chain.ts';
import type { DenseLion } from './optim/dense-lion.ts';
import type { OptimConfig } from './optim/optim-config.ts';
import { setupOptimizer } from './optim/optim-setup.ts';
import type { LrSchedule } from './optim/schedule.ts';
import type { SparseLionGroup } from './optim/sparse-lion.ts';
import type { BatchGrads } from './optim/batch-grads.ts';
import type { SparseUpdate } from './optim/sparse-update.ts';

/** What one step reports: the progressive predictions (made before the update) and the loss. */
export interface StepResult {
  /**
   * [B] predictions made before this step's update (progressive validation); in a skipped
   * step NaN where the logit is NaN or infinite (undefined, not the 0 or 1 of its sigmoid).
   */
  predictions: Float32Array;
  /** Weighted mean logloss of the batch before the update (nats). */
  loss: number;
  /**
   * null when the step was taken; else what was NaN or infinite (the loss, the gradient of a
   * tower variable, the gradient of the embedding rows), and the step was skipped: no weight,
   * momentum or step-counter change (ids first seen in the batch stay admitted, as initialised).
   */
  nonFinite: string | null;
}

/**
 * One training step of the CTR model: gather rows (admitting new ids), forward the tower,
 * weighted mean logloss, backward to the tower variables and the tower input, dense Lion
 * on the tower, sparse lazy Lion on the touched rows (duplicate ids summed first).
 */
export class TrainStep {
  readonly model: CtrModel;
  /** The tower's Lion link (its momentum and step are checkpointed). */
  readonly denseLion: DenseLion;
  /** The sparse group of the first table (all tables share it unless `tables` overrides). */
  readonly sparse: SparseLionGroup;
  /** One sparse group per table, in model order. */
  readonly sparseGroups: SparseLionGroup[];
  readonly schedule: LrSchedule;
  /** Which kernel runs the sparse steps and why, for the start-up log. */
  readonly kernelNote: string;
  /** The tower's optimizer: clip -> Lion -> lr schedule (or AdamW -> lr schedule). */
  readonly dense: DenseChain;
  /** One sparse step per table, in model order, chosen at construction. */
  readonly sparseUpdates: SparseUpdate[];
  /** The arrays each step's lookup fills (rowIdx, tower input, wide sums), reused step after step. */
  private readonly gathered = new GatherBuffers();
  /** Where the tower input's gradient is read each step (one array reused on wasm, float32-reader.ts). */
  private readonly gxReader = new Float32Reader();
  /** The batch's gradients as the sparse steps read them (one object, refilled each step). */
  private readonly batchGrads: BatchGrads;
  /** Steps taken (also the sparse step number kept per row). */
  step = 0;
  /**
   * Called before the sparse updates of each step taken with the [B, F] rows about to change
   * (row of example b in table f at b * F + f; -1 where model.admission gave the id no row,
   * which the sparse updates skip): delta exports record them, the publish gate saves their
   * values first.
   */
  readonly rowListeners: ((rowIdx: Int32Array, F: number) => void)[] = [];

  /**
   * @param note called with a line when a table falls back from the wasm kernel to the JS
   *   one (its rows outgrew a WebAssembly memory, or none could be made), for the log.
   */
  constructor(model: CtrModel, optim: OptimConfig, note: (msg: string) => void = () => {}) {
    this.model = model;
    const o = setupOptimizer(model, optim, note);
    this.denseLion = o.denseLion;
    this.dense = o.dense;
    this.sparseGroups = o.sparseGroups;
    this.sparse = this.sparseGroups[0];
    this.sparseUpdates = o.sparse;
    this.schedule = o.schedule;
    this.kernelNote = o.kernelNote;
    const none = new Float32Array(0);
    const F = model.slots.length,
      I = model.inputDim;
    this.batchGrads = { rowIdx: new Int32Array(0), B: 0, F, gx: none, I, dlogit: none };
  }

  /**
   * Trains on one batch; returns the progressive predictions and the batch loss. When the
   * loss or a gradient is NaN or infinite the update is skipped (StepResult.nonFinite); the
   * check costs one scalar read per step.
   */
  run(batch: FeatureBatch): StepResult {
    const m = this.model,
      B = batch.size,
      I = m.inputDim;
    for (const t of m.tables) t.clock = this.step;
    const g = m.gather(batch, true, undefined, this.gathered);
    let sumW = 0,
      sumWY = 0;
    for (let b = 0; b < B; b++) {
      sumW += batch.weights[b];
      sumWY += batch.weights[b] * batch.labels[b];
    }
    if (this.step === 0 && sumW > 0) {
      // start the global bias at the logit of the first batch's CTR: with sign updates of
      // size lr the bias alone could otherwise take thousands of steps to get there
      const ctr = Math.min(1 - 1e-3, Math.max(1e-3, sumWY / sumW));
      const bias = m.tower.vars[m.tower.vars.length - 1];
      tf.tidy(() => bias.assign(tf.fill(bias.shape, Math.log(ctr / (1 - ctr)))));
    }
    let logitsKept: tf.Tensor | undefined;
    let predictions: Float32Array = new Float32Array(0),
      gx: Float32Array = new Float32Array(0),
      loss = NaN,
      nonFinite: string | null = null;
    // Typed arrays are written to outer variables, not returned: tf.tidy walks its
    // result element by element looking for tensors (seconds for a [B, I] array).
    tf.tidy(() => {
      const x = tf.tensor2d(g.x, [B, I]);
      const y = tf.tensor1d(batch.labels);
      const w = tf.tensor1d(batch.weights);
      const fwd = deepForward(m, x);
      const z = tf.add(fwd.logits, tf.tensor1d(g.wide)) as tf.Tensor1D;
      logitsKept = tf.keep(z);
      // numerically stable logloss with logits: max(z,0) - z*y + log(1 + exp(-|z|))
      const l = tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
      const value = tf.div(tf.sum(tf.mul(l, w)), sumW) as tf.Scalar;
      const p = tf.sigmoid(z);
      // dLoss/dz = w (sigmoid(z) - y) / sum(w), the derivative of the loss above
      const grads = deepBackward(m, tf.div(tf.mul(tf.sub(p, y), w), sumW) as tf.Tensor1D, fwd);
      // one read of [predictions, loss, check]: check = loss + the sum of every gradient (the
      // tower's, and the tower input's that the embedding rows' gradients are sums of) is NaN or
      // infinite iff one of them is (or a sum overflows float32); a non-finite logit makes the
      // loss non-finite
      const check = tf.addN([value, ...grads.map((gr) => tf.sum(gr))]);
      const read = tf.concat([p, tf.reshape(value, [1]), tf.reshape(check, [1])]).dataSync() as Float32Array;
      predictions = read.slice(0, B);
      loss = read[B];
      if (Number.isFinite(read[B + 1])) this.dense.apply(grads.slice(1), this.step);
      else nonFinite = whatIsNonFinite(value, grads, m.tower.vars);
      gx = this.gxReader.read(grads[0]);
    });
    if (nonFinite) {
      // sigmoid(±Infinity) is 0 or 1: a prediction of an overflowed logit is undefined, not a score
      const z = logitsKept!.dataSync();
      for (let b = 0; b < B; b++) if (!Number.isFinite(z[b])) predictions[b] = NaN;
      logitsKept!.dispose();
      return { predictions, loss, nonFinite };
    }
    logitsKept?.dispose();
    // dLoss/dlogit = w * (p - y) / sum(w): the gradient of each linear weight
    const dlogit = new Float32Array(B);
    for (let b = 0; b < B; b++) dlogit[b] = (batch.weights[b] * (predictions[b] - batch.labels[b])) / sumW;
    const bg = this.batchGrads;
    bg.rowIdx = g.rowIdx;
    bg.B = B;
    bg.gx = gx;
    bg.dlogit = dlogit;
    for (const l of this.rowListeners) l(g.rowIdx, bg.F);
    for (const u of this.sparseUpdates) u.apply(bg, this.step);
    this.step++;
    return { predictions, loss, nonFinite };
  }
}

/**
 * Names what is NaN or infinite among a step's loss and gradients (call inside tf.tidy; the
 * rare path of a step, so each part is read on its own), e.g. `loss NaN; non-finite
 * gradients: tower input (embedding rows) 4096 of 65536, tower/w0 12 of 3072 and 2 more`.
 * @param grads [tower input, ...one per var] as tf.valueAndGrads gives them.
 */
function whatIsNonFinite(loss: tf.Scalar, grads: tf.Tensor[], vars: tf.Variable[]): string {
  const l = loss.dataSync()[0];
  const bad: string[] = [];
  grads.forEach((gr, i) => {
    const v = gr.dataSync();
    let n = 0;
    for (let k = 0; k < v.length; k++) if (!Number.isFinite(v[k])) n++;
    if (n) bad.push(`${i === 0 ? 'tower input (embedding rows)' : vars[i - 1].name} ${n} of ${v.length}`);
  });
  const parts = Number.isFinite(l) ? [] : [`loss ${l}`];
  const more = bad.length > 3 ? ` and ${bad.length - 3} more` : '';
  if (bad.length) parts.push(`non-finite gradients: ${bad.slice(0, 3).join(', ')}${more}`);
  return parts.length ? parts.join('; ') : 'the sum of the gradients (it overflows float32)';
}
