/**
 * Tensors freed: a tower, its Lion or AdamW state and the tf.train-style LionOptimizer leave
 * tf.memory() where it was once disposed (issue 11: every hot swap leaked the tower's initial
 * tensors, 6 per load for the default MLP, and setWeights kept the old momenta).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { DenseTower } from '../../../src/model/tower.ts';
import { DenseAdam } from '../../../src/train/optim/adam.ts';
import { DenseLion } from '../../../src/train/optim/dense-lion.ts';
import { LionOptimizer } from '../../../src/train/optim/lion-optimizer.ts';

const lion = { lr: 1e-3, beta1: 0.9, beta2: 0.99, weightDecay: 0.1 };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** numTensors and numBytes of tf.memory() after `cycles` runs of `cycle`, minus before. */
function growth(cycles: number, cycle: () => void): { tensors: number; bytes: number } {
  cycle(); // first use may register kernels or caches once
  const before = tf.memory();
  for (let i = 0; i < cycles; i++) cycle();
  const after = tf.memory();
  return { tensors: after.numTensors - before.numTensors, bytes: after.numBytes - before.numBytes };
}

describe('dense tower and optimizer state free their tensors', () => {
  it('a tower loaded from an export, a seeded one, their Lion and AdamW state: nothing left after dispose', () => {
    const shapes = new DenseTower(8, [4, 3]).shapes;
    const values = shapes.map((s) => new Float32Array(s.reduce((a, b) => a * b, 1)).fill(0.5));
    expect(
      growth(20, () => {
        const loaded = new DenseTower(8, [4, 3], { values, trainable: false });
        const seeded = new DenseTower(8, [4, 3], { seed: 3 });
        const l = new DenseLion(
          seeded.vars,
          seeded.vars.map(() => lion),
        );
        const a = new DenseAdam(
          seeded.vars,
          seeded.vars.map(() => ({ ...lion, eps: 1e-8 })),
        );
        for (const x of [loaded, seeded, l, a]) x.dispose();
      }),
    ).toEqual({ tensors: 0, bytes: 0 });
  });

  it('LionOptimizer.setWeights frees the momenta it replaces', async () => {
    const v = tf.variable(tf.ones([5]));
    const opt = new LionOptimizer(1e-3);
    opt.applyGradients([{ name: v.name, tensor: tf.onesLike(v) }]);
    const weights = await opt.getWeights();
    const copies = weights.map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) await opt.setWeights(copies);
    expect(tf.memory().numTensors - before).toBe(0);
    opt.dispose();
    tf.dispose([v, ...copies.map((c) => c.tensor)]);
  });
});
