/**
 * @module The dense tower's forward and backward pass written out by hand (issue 13): the
 * training step's forward keeps each layer's output for the backward, which runs the chain
 * rule layer by layer with the fewest tensor passes each backend allows, instead of
 * tf.valueAndGrads' taped gradients (ReLU's gradient through Step, each bias gradient a Sum
 * over the batch axis; on wasm every backward matmul with a transposed operand is copied
 * first, the smaller operand where there is a choice: weightGrad).
 *
 * For a layer a = h W + b (h [B, n], W [n, m], b [m]), ReLU on hidden layers (h' = relu(a)),
 * and the incoming gradient dh' [B, m] (Goodfellow et al. 2016, sec. 6.5.6):
 *   da = dh' * [h' > 0]   (taken as dh' * sign(h'): h' >= 0, so sign(h') is the 0/1 mask)
 *   dW = h^T da,   db = 1^T da,   dh = da W^T
 * The ReLU mask uses the layer's output where tfjs's gradient uses its input: h' > 0 iff a > 0.
 */
import * as tf from '@tensorflow/tfjs-core';

/** What the forward pass keeps for the backward: acts[0] = x, acts[l] = output of hidden layer l. */
export interface TowerActs {
  /** [B, I] input, then [B, H_l] per hidden layer (after ReLU). */
  acts: tf.Tensor2D[];
}

/**
 * Logits [B] of the tower with variables `vars` ([W0, b0, ..., Wout, bout], DenseTower's order)
 * for x [B, I], each hidden layer one fused matmul + bias, then ReLU. Returns the logits and the
 * layer outputs for towerBackward. Call inside tf.tidy.
 */
export function towerForward(x: tf.Tensor2D, vars: tf.Tensor[]): { logits: tf.Tensor1D } & TowerActs {
  const L = vars.length / 2;
  const acts: tf.Tensor2D[] = [x];
  let h = x;
  for (let l = 0; l + 1 < L; l++) {
    // ReLU apart: XNNPACK's fused clamp turns NaN into 0, tf.relu keeps it (a NaN input must reach the loss)
    h = tf.relu(tf.fused.matMul({ a: h, b: vars[2 * l] as tf.Tensor2D, bias: vars[2 * l + 1] })) as tf.Tensor2D;
    acts.push(h);
  }
  const z = tf.fused.matMul({ a: h, b: vars[2 * L - 2] as tf.Tensor2D, bias: vars[2 * L - 1] });
  return { logits: tf.reshape(z, [-1]) as tf.Tensor1D, acts };
}

/**
 * The gradients of a scalar loss with respect to the tower input and every variable, given
 * dLoss/dlogit `dz` [B] and the forward pass's `acts`: [dx [B, I], dW0, db0, ..., dWout, dbout],
 * each the shape of its variable. Call inside tf.tidy.
 *
 * Each bias gradient is 1^T da, a [1, B] x [B, m] matmul: tfjs-backend-wasm 4.22 sums over a
 * non-innermost axis by transposing first (8 ms for [4096, 256], against ~3 for the matmul;
 * native TensorFlow is ~2x faster with the matmul too). The ReLU step dh * [h > 0] is one
 * ReluGrad op on native TensorFlow (reluBackward), Step and Mul on wasm, a cast of Greater and
 * Mul elsewhere (tfjs-node's Step is a composite of five ops, ~4x the time).
 */
export function towerBackward(dz: tf.Tensor1D, acts: tf.Tensor2D[], vars: tf.Tensor[]): tf.Tensor[] {
  const L = vars.length / 2;
  const B = dz.shape[0];
  const ones = tf.ones([1, B]) as tf.Tensor2D;
  const grads: tf.Tensor[] = new Array(2 * L);
  let da: tf.Tensor2D = tf.reshape(dz, [B, 1]);
  for (let l = L - 1; l >= 0; l--) {
    const h = acts[l],
      W = vars[2 * l] as tf.Tensor2D;
    // the output layer's da [B, 1]: da^T is a reshape, and 1 x B by B x n needs no transposed copy of h
    grads[2 * l] = l === L - 1 ? tf.reshape(tf.matMul(tf.reshape(da, [1, B]), h), [-1, 1]) : weightGrad(h, da);
    grads[2 * l + 1] = tf.reshape(tf.matMul(ones, da), [-1]);
    // the output layer's W [H, 1]: da W^T is a broadcast product, no matmul
    let dh = l === L - 1 ? tf.mul(da, tf.reshape(W, [1, -1])) : tf.matMul(da, W, false, true);
    if (l > 0) dh = reluBackward(dh, h);
    da = dh as tf.Tensor2D;
  }
  return [da, ...grads];
}

/**
 * h^T da [n, m] for a layer's input h [B, n] and pre-activation gradient da [B, m]. On wasm as
 * (da^T h)^T: XNNPACK takes only untransposed operands (backend.ts patchWasmTransposedMatMul
 * copies a transposed one first), and da [B, m] is the smaller of the two to copy transposed
 * (m = 256 against n = 637 for the first layer; the [m, n] result is small to transpose
 * back); 1-4 ms less a step at batch 4096 (bench/wasm-step.ts). The same products,
 * each summed over the batch. Native TensorFlow and cpu take the transposed operand as it is.
 */
function weightGrad(h: tf.Tensor2D, da: tf.Tensor2D): tf.Tensor2D {
  if (tf.getBackend() !== 'wasm' || da.shape[1] >= h.shape[1]) return tf.matMul(h, da, true, false);
  return tf.transpose(tf.matMul(tf.transpose(da), h));
}

/** The parts of tfjs-node's backend that run a TensorFlow op by name (its kernels' own way). */
interface NativeOps {
  binding: { TF_ATTR_TYPE: number; TF_FLOAT: number };
  executeSingleOutput(
    op: string,
    attrs: { name: string; type: number; value: unknown }[],
    inputs: tf.Tensor[],
  ): tf.Tensor;
}

/**
 * dh * [h > 0] as float32 for the gradient dh and ReLU output h (h >= 0), both [B, H], the
 * cheaper way on the current backend. On native TensorFlow one ReluGrad op, which computes
 * `gradients * cast(features > 0)` (TensorFlow's relu_op_functor.h), the same multiplication
 * as the Greater, Cast and Mul it replaces: the same bits, -0 and NaN included
 * (test/unit/model/relu-backward.test.ts); two ops and a [B, H] pass fewer, 1-4% of the
 * tower's forward + backward CPU time at batch 4096 (paired runs, load 4.6).
 */
export function reluBackward(dh: tf.Tensor, h: tf.Tensor): tf.Tensor {
  const name = tf.getBackend();
  if (name === 'wasm') return tf.mul(dh, tf.step(h));
  if (name !== 'tensorflow' || dh.dtype !== 'float32') return tf.mul(dh, tf.cast(tf.greater(h, 0), 'float32'));
  const be = tf.backend() as unknown as NativeOps;
  return be.executeSingleOutput(
    'ReluGrad',
    [{ name: 'T', type: be.binding.TF_ATTR_TYPE, value: be.binding.TF_FLOAT }],
    [dh, h],
  );
}
