/**
 * The dense tower's forward and backward pass on whatever tfjs backend is current, for tests
 * that compare two backends (native vs wasm, wasm on 1 vs N threads) on the same inputs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DenseTower } from '../../src/model/tower.ts';
import { towerBackward, towerForward } from '../../src/model/tower-pass.ts';
import { mulberry32 } from './prng.ts';

/** The tower's inputs: x [B, I], labels [B] (0/1), example weights [B], initial weights per layer. */
export interface TowerCase {
  I: number;
  B: number;
  hidden: number[];
  weights: Float32Array[];
  x: Float32Array;
  labels: Float32Array;
  exampleWeights: Float32Array;
}

/** Logits [B], the weighted logloss, gradients [d/dx, d/dW0, ...]. */
export interface TowerFigures {
  logits: Float32Array;
  loss: number;
  grads: Float32Array[];
}

/**
 * Logits [B], the weighted logloss and gradients [d/dx, d/dW0, ...] of the tower on the current
 * backend as the trainer computes them (src/model/tower-pass.ts, dLoss/dz = w (sigmoid(z) - y) /
 * sum(w)); the trainer's weighted logloss with logits: max(z,0) - z*y + log(1 + exp(-|z|)).
 */
export function towerForwardBackward(c: TowerCase): TowerFigures {
  const tower = new DenseTower(c.I, c.hidden, { values: c.weights });
  try {
    return tf.tidy(() => {
      const xt = tf.tensor2d(c.x, [c.B, c.I]);
      const [y, w] = [tf.tensor1d(c.labels), tf.tensor1d(c.exampleWeights)];
      const sumW = tf.sum(w);
      const { logits: z, acts } = towerForward(xt, tower.vars);
      const l = tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
      const loss = tf.div(tf.sum(tf.mul(l, w)), sumW);
      const dz = tf.div(tf.mul(tf.sub(tf.sigmoid(z), y), w), sumW) as tf.Tensor1D;
      const grads = towerBackward(dz, acts, tower.vars);
      const logits = z.dataSync() as Float32Array;
      return { logits, loss: loss.dataSync()[0], grads: grads.map((g) => g.dataSync() as Float32Array) };
    });
  } finally {
    tower.dispose();
  }
}

/** towerForwardBackward by tf.valueAndGrads of DenseTower.logits (the trainer's pass before issue 13). */
export function towerForwardBackwardTaped(c: TowerCase): TowerFigures {
  const tower = new DenseTower(c.I, c.hidden, { values: c.weights });
  try {
    return tf.tidy(() => {
      const xt = tf.tensor2d(c.x, [c.B, c.I]);
      const [y, w] = [tf.tensor1d(c.labels), tf.tensor1d(c.exampleWeights)];
      let logits: Float32Array = new Float32Array(0);
      const f = (xIn: tf.Tensor, ...vars: tf.Tensor[]): tf.Scalar => {
        const z = tower.logits(xIn as tf.Tensor2D, vars);
        logits = z.dataSync() as Float32Array;
        const l = tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
        return tf.div(tf.sum(tf.mul(l, w)), tf.sum(w)) as tf.Scalar;
      };
      const { value, grads } = tf.valueAndGrads(f)([xt, ...tower.vars]);
      return { logits, loss: value.dataSync()[0], grads: grads.map((g) => g.dataSync() as Float32Array) };
    });
  } finally {
    tower.dispose();
  }
}

/** max|a - b| / max|b|: the norm-wise relative difference of `a` from the reference `b`. */
export function relDiff(a: Float32Array, b: Float32Array): number {
  let d = 0,
    m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m === 0 ? d : d / m;
}

/** A reproducible uniform [lo, hi) float32 array (mulberry32, prng.ts) of n values from `seed`. */
export function uniform(n: number, lo: number, hi: number, seed: number): Float32Array {
  const u = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * u());
}

/**
 * A tower case's data for layer sizes [I, ...hidden, 1] and B examples: weights [W0, b0, W1, b1, ...]
 * (Glorot-uniform kernels from seeds 11 + l, biases uniform in [-0.1, 0.1) from seeds 21 + l),
 * x [B, I] uniform in [-1, 1) (seed 7) and labels [B] (1 with probability 0.25, seed 8).
 */
export function towerData(sizes: number[], B: number) {
  const weights: Float32Array[] = sizes.slice(0, -1).flatMap((fanIn, l) => {
    const fanOut = sizes[l + 1];
    const lim = Math.sqrt(6 / (fanIn + fanOut));
    return [uniform(fanIn * fanOut, -lim, lim, 11 + l), uniform(fanOut, -0.1, 0.1, 21 + l)];
  });
  const x = uniform(B * sizes[0], -1, 1, 7);
  const labels = uniform(B, 0, 1, 8).map((u) => (u < 0.25 ? 1 : 0));
  return { weights, x, labels };
}
