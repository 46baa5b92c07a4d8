import * as tf from '@tensorflow/tfjs-core';
import { LionctrError } from '../errors.ts';

/**
 * The dense tower: an MLP on the concatenated embeddings and numeric inputs,
 * x [B, I] -> ReLU hidden layers -> one logit [B]. Glorot-uniform weights from a seed,
 * zero biases. Variables in order [W0 [I,H0], b0 [H0], ..., Wout [Hk,1], bout [1]].
 */
let towers = 0;

export class DenseTower {
  readonly inputDim: number;
  readonly hidden: number[];
  readonly vars: tf.Variable[];

  /**
   * @param values optional initial values (from an export), one per variable in order.
   * @throws LionctrError LIONCTR_BAD_EXPORT when `values` do not match the shapes (a corrupt export).
   */
  constructor(
    inputDim: number,
    hidden: number[],
    opts: { seed?: number; values?: Float32Array[]; trainable?: boolean } = {},
  ) {
    this.inputDim = inputDim;
    this.hidden = hidden;
    const sizes = [inputDim, ...hidden, 1];
    const shapes: number[][] = [];
    for (let l = 0; l + 1 < sizes.length; l++) shapes.push([sizes[l], sizes[l + 1]], [sizes[l + 1]]);
    if (opts.values && opts.values.length !== shapes.length) {
      const msg = `DenseTower: ${opts.values.length} weight arrays for ${shapes.length} variables`;
      throw new LionctrError('LIONCTR_BAD_EXPORT', msg);
    }
    const seed = opts.seed ?? 1;
    const id = towers++; // tfjs variable names are process-global: old and new models coexist during a hot swap
    this.vars = shapes.map((shape, i) => {
      const name = `tower${id}/${i % 2 === 0 ? 'kernel' : 'bias'}_${i >> 1}`;
      const trainable = opts.trainable ?? true;
      if (opts.values) {
        const size = shape.reduce((a, b) => a * b, 1);
        if (opts.values[i].length !== size) {
          const msg = `DenseTower: ${name} has ${opts.values[i].length} values, expected ${size}`;
          throw new LionctrError('LIONCTR_BAD_EXPORT', msg);
        }
        const values = opts.values[i];
        return tf.tidy(() => tf.variable(tf.tensor(values, shape), trainable, name));
      }
      // a variable shares its initial tensor's data: tidy frees the tensor, the variable keeps the data
      if (shape.length === 1) return tf.tidy(() => tf.variable(tf.zeros(shape), trainable, name));
      const limit = Math.sqrt(6 / (shape[0] + shape[1]));
      return tf.tidy(() => tf.variable(tf.randomUniform(shape, -limit, limit, 'float32', seed + i), trainable, name));
    });
  }

  /** Shapes of the variables, in order. */
  get shapes(): number[][] {
    return this.vars.map((v) => v.shape);
  }

  /**
   * Logits [B] for x [B, I]. Pass `vars` to differentiate with respect to them
   * (tf.grads); defaults to the tower's own variables. Call inside tf.tidy.
   */
  logits(x: tf.Tensor2D, vars: tf.Tensor[] = this.vars): tf.Tensor1D {
    let h: tf.Tensor2D = x;
    const L = vars.length / 2;
    for (let l = 0; l < L; l++) {
      h = tf.add(tf.matMul(h, vars[2 * l] as tf.Tensor2D), vars[2 * l + 1]) as tf.Tensor2D;
      if (l + 1 < L) h = tf.relu(h);
    }
    return tf.reshape(h, [-1]) as tf.Tensor1D;
  }

  /** Frees the variables (a model that is swapped out must call it: tensors are not garbage-collected). */
  dispose(): void {
    for (const v of this.vars) v.dispose();
  }
}
