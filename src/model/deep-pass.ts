/**
 * @module The deep (+ FM) part of the CTR model's logit, forward and backward by hand, for the
 * training step (issue 13): CtrModel.deepLogits' function with its gradients written out
 * (./tower-pass.ts for the tower) rather than taped by tf.valueAndGrads.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CtrModel } from './ctr-model.ts';
import { towerBackward, towerForward } from './tower-pass.ts';

/** The forward pass's logits and what its backward needs. */
export interface DeepForward {
  /** [B] deep (+ FM) logits, as CtrModel.deepLogits. */
  logits: tf.Tensor1D;
  /** acts[0] = x [B, I], then each hidden layer's output. */
  acts: tf.Tensor2D[];
}

/**
 * CtrModel.deepLogits(x, vars) that keeps the layer outputs for deepBackward. Call inside tf.tidy.
 * @param vars the tower's variables (default: model.tower.vars).
 */
export function deepForward(m: CtrModel, x: tf.Tensor2D, vars: tf.Tensor[] = m.tower.vars): DeepForward {
  const { logits, acts } = towerForward(x, vars);
  if (!m.config.fm) return { logits, acts };
  // FM: 0.5 * sum_d[(sum_f e_fd)^2 - sum_f e_fd^2]  (Rendle 2010, lemma 3.1), as CtrModel.deepLogits
  const e = fmEmbeddings(m, x);
  const fm = tf.mul(tf.sum(tf.sub(tf.square(tf.sum(e, 1)), tf.sum(tf.square(e), 1)), 1), 0.5);
  return { logits: tf.add(logits, fm) as tf.Tensor1D, acts };
}

/**
 * Gradients of a scalar loss given dLoss/dlogit `dz` [B]: [dx [B, I], dW0, db0, ..., dbout]
 * (tf.valueAndGrads' order for f(x, ...vars)). The FM term adds to dx, per example b, slot f
 * and dim d: dz_b (sum_g e_bgd - e_bfd) (the derivative of Rendle's lemma 3.1). Call inside tf.tidy.
 */
export function deepBackward(m: CtrModel, dz: tf.Tensor1D, fwd: DeepForward, vars = m.tower.vars): tf.Tensor[] {
  const grads = towerBackward(dz, fwd.acts, vars);
  if (!m.config.fm) return grads;
  const x = fwd.acts[0];
  const [B, I] = x.shape;
  const e = fmEmbeddings(m, x);
  const de = tf.mul(tf.sub(tf.sum(e, 1, true), e), tf.reshape(dz, [B, 1, 1]));
  const FD = e.shape[1] * e.shape[2];
  const dx = tf.pad(tf.reshape(de, [B, FD]), [
    [0, 0],
    [0, I - FD],
  ]);
  grads[0] = tf.add(grads[0], dx);
  return grads;
}

/** The slots' embeddings of x as [B, F, D] (every slot has the same dim when model.fm is on). */
function fmEmbeddings(m: CtrModel, x: tf.Tensor2D): tf.Tensor3D {
  const F = m.slots.length,
    D = m.dims[0];
  return tf.reshape(tf.slice(x, [0, 0], [-1, F * D]), [-1, F, D]);
}
