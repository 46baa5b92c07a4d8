/**
 * The hand-written forward and backward pass of the dense tower (src/model/tower-pass.ts) and of
 * the FM term (src/model/deep-pass.ts) against a float64 re-derivation in plain JS and against
 * tf.valueAndGrads (the trainer's pass before issue 13), on wasm and cpu; and the training step
 * built on them reads back once per step besides the input gradient and leaks no tensor.
 *
 * Tolerance, norm-wise per tensor (max|a - ref| / max|ref|): TOL = 1e-5. float32 sums of n terms
 * in any order differ from the float64 sum by about sqrt(n) u relative (u = 6e-8; n = 256 for
 * the weight gradients' sum over the batch: ~1e-6), three chained layers at most a few times
 * that. Examples with a hidden pre-activation within KINK of ReLU's kink get weight 0 (their
 * ReLU branch can flip under float32 rounding: an O(1) change, not rounding).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { criteoSlots, type FeatureSchema } from '../../../src/features/schema.ts';
import { createSyntheticSource } from '../../../src/ingest/synthetic-source.ts';
import { selectBackend } from '../../../src/model/backend.ts';
import { CtrModel } from '../../../src/model/ctr-model.ts';
import { deepBackward, deepForward } from '../../../src/model/deep-pass.ts';
import { Float32Reader } from '../../../src/model/float32-reader.ts';
import { tinyTrainedModel } from '../../helpers/tiny-model.ts';
import {
  relDiff,
  type TowerCase,
  type TowerFigures,
  towerForwardBackward,
  towerForwardBackwardTaped,
  towerData,
  uniform,
} from '../../helpers/tower-grads.ts';

const TOL = 1e-5;
const KINK = 1e-4;
const [B, I, HIDDEN] = [256, 100, [32, 16]];

const sizes = [I, ...HIDDEN, 1];
const { weights, x, labels } = towerData(sizes, B);

/**
 * The float64 reference: logits, loss (the trainer's weighted logloss) and gradients
 * [dx, dW0, db0, ...] by the chain rule example by example; `w` gets 0 for examples near a kink.
 */
function reference(w: Float32Array): TowerFigures & { zeroed: number } {
  const L = sizes.length - 1;
  const grads = [new Float64Array(B * I), ...weights.map((v) => new Float64Array(v.length))];
  const logits = new Float32Array(B);
  let zeroed = 0,
    loss = 0,
    sumW = 0;
  const acts: Float64Array[][] = [];
  for (let b = 0; b < B; b++) {
    const hs = [Float64Array.from(x.subarray(b * I, (b + 1) * I))];
    for (let l = 0; l < L; l++) {
      const [n, m, W, bias] = [sizes[l], sizes[l + 1], weights[2 * l], weights[2 * l + 1]];
      const a = new Float64Array(m);
      for (let j = 0; j < m; j++) {
        let acc = bias[j];
        for (let i = 0; i < n; i++) acc += hs[l][i] * W[i * m + j];
        a[j] = acc;
      }
      if (l + 1 < L && w[b] !== 0 && a.some((v) => Math.abs(v) < KINK)) {
        w[b] = 0;
        zeroed++;
      }
      hs.push(l + 1 < L ? a.map((v) => Math.max(v, 0)) : a);
    }
    acts.push(hs);
    sumW += w[b];
  }
  for (let b = 0; b < B; b++) {
    const hs = acts[b];
    const z = hs[L][0];
    logits[b] = z;
    loss += w[b] * (Math.max(z, 0) - z * labels[b] + Math.log1p(Math.exp(-Math.abs(z))));
    let d = new Float64Array([(w[b] * (1 / (1 + Math.exp(-z)) - labels[b])) / sumW]);
    for (let l = L - 1; l >= 0; l--) {
      const [n, m, W] = [sizes[l], sizes[l + 1], weights[2 * l]];
      const dh = new Float64Array(n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < m; j++) {
          grads[1 + 2 * l][i * m + j] += hs[l][i] * d[j];
          dh[i] += d[j] * W[i * m + j];
        }
      for (let j = 0; j < m; j++) grads[2 + 2 * l][j] += d[j];
      d = l > 0 ? dh.map((v, i) => (hs[l][i] > 0 ? v : 0)) : dh;
      if (l === 0) grads[0].set(dh, b * I);
    }
  }
  return { logits, loss: loss / sumW, grads: grads.map((g) => Float32Array.from(g)), zeroed };
}

const exampleWeights = uniform(B, 0.5, 1.5, 9);
const ref = reference(exampleWeights); // sets the weights of examples near a kink to 0
const c: TowerCase = { I, B, hidden: HIDDEN, weights, x, labels, exampleWeights };

/** Norm-wise relative differences of every output of `a` from `b`, by name. */
function diffs(a: TowerFigures, b: TowerFigures): Record<string, number> {
  const out: Record<string, number> = {
    logits: relDiff(a.logits, b.logits),
    loss: relDiff(Float32Array.of(a.loss), Float32Array.of(b.loss)),
  };
  a.grads.forEach((g, i) => {
    out[i === 0 ? 'd/dx' : `d/d${i % 2 ? 'W' : 'b'}${(i - 1) >> 1}`] = relDiff(g, b.grads[i]);
  });
  return out;
}

describe.each(['wasm', 'cpu'] as const)('hand-written tower pass on %s', (backend) => {
  afterAll(async () => {
    await selectBackend('wasm');
  });

  it(`matches a float64 re-derivation and tf.valueAndGrads within ${TOL}`, async () => {
    await selectBackend(backend);
    expect(ref.zeroed).toBeLessThan(B / 5);
    const hand = towerForwardBackward(c);
    const taped = towerForwardBackwardTaped(c);
    const vsRef = diffs(hand, ref),
      tapedVsRef = diffs(taped, ref),
      vsTaped = diffs(hand, taped);
    const fmt = (d: Record<string, number>) =>
      Object.entries(d)
        .map(([k, v]) => `${k} ${v.toExponential(1)}`)
        .join(', ');
    console.log(`${backend} hand vs float64: ${fmt(vsRef)}\n${backend} taped vs float64: ${fmt(tapedVsRef)}`);
    for (const d of [vsRef, tapedVsRef, vsTaped])
      for (const [k, v] of Object.entries(d)) expect(v, k).toBeLessThan(TOL);
    expect(Math.max(...hand.grads[1].map(Math.abs))).toBeGreaterThan(1e-6); // not vacuous
  });

  it(`the FM term's gradient matches tf.grads of CtrModel.deepLogits within ${TOL}`, async () => {
    await selectBackend(backend);
    const schema: FeatureSchema = { ...criteoSlots(), embeddingDim: 4 };
    const model = new CtrModel(schema, { hidden: [8], initStd: 0.01, seed: 3, fm: true });
    try {
      const n = 64,
        J = model.inputDim;
      const xs = uniform(n * J, -1, 1, 5),
        dzs = uniform(n, -1, 1, 6);
      const [hand, taped, logits] = tf.tidy(() => {
        const xt = tf.tensor2d(xs, [n, J]),
          dz = tf.tensor1d(dzs);
        const fwd = deepForward(model, xt);
        const h = deepBackward(model, dz, fwd).map((g) => g.dataSync() as Float32Array);
        const f = (xIn: tf.Tensor, ...vars: tf.Tensor[]) =>
          tf.sum(tf.mul(model.deepLogits(xIn as tf.Tensor2D, vars), dz)) as tf.Scalar;
        const t = tf
          .grads(f)([xt, ...model.tower.vars])
          .map((g) => g.dataSync() as Float32Array);
        const l = [fwd.logits.dataSync() as Float32Array, model.deepLogits(xt).dataSync() as Float32Array];
        return [h, t, l];
      });
      expect(relDiff(logits[0], logits[1])).toBeLessThan(TOL);
      for (const [i, g] of hand.entries()) expect(relDiff(g, taped[i]), `gradient ${i}`).toBeLessThan(TOL);
    } finally {
      model.dispose();
    }
  });
});

describe('TrainStep on the hand-written pass', () => {
  it('reads back twice per step (predictions, loss, check packed; input gradient), frees every tensor', async () => {
    const { step, featurizer } = await tinyTrainedModel(2, 256);
    const batches = [];
    for await (const rb of createSyntheticSource({ seed: 4, limit: 4 * 256 }).batches({ batchSize: 256 }))
      batches.push(featurizer.fromRecordBatch(rb));
    step.run(batches[0]);
    // a read is a dataSync or a Float32Reader.read (a dataSync off wasm: counted once)
    const proto = tf.Tensor.prototype as unknown as { dataSync: () => unknown };
    const orig = proto.dataSync;
    const readerProto = Float32Reader.prototype;
    const origRead = readerProto.read;
    let reads = 0,
      inReader = false;
    proto.dataSync = function (this: tf.Tensor) {
      if (!inReader) reads++;
      return orig.call(this);
    };
    readerProto.read = function (this: Float32Reader, t: tf.Tensor) {
      reads++;
      inReader = true;
      try {
        return origRead.call(this, t);
      } finally {
        inReader = false;
      }
    };
    const before = tf.memory().numTensors;
    try {
      for (const b of batches.slice(1)) {
        const r = step.run(b);
        expect(r.nonFinite).toBeNull();
        expect(Number.isFinite(r.loss)).toBe(true);
      }
    } finally {
      proto.dataSync = orig;
      readerProto.read = origRead;
    }
    expect(reads).toBe(2 * 3);
    expect(tf.memory().numTensors).toBe(before);
    step.model.dispose();
    step.denseLion.dispose();
  });
});
