import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/model/backend.ts';
import { clipByGlobalNorm, DenseChain, scaleByLearningRate } from '../../../../src/train/optim/dense-chain.ts';
import { DenseLion } from '../../../../src/train/optim/dense-lion.ts';
import { lrFunction, type LrFunction } from '../../../../src/train/optim/schedule.ts';
import { expectStepsMatchReference } from '../../../helpers/reference-steps.ts';

// The dense chain clip -> Lion -> lr schedule against a float64 re-derivation of the same
// three steps, and each link alone.
describe('dense chain (clip -> Lion -> lr schedule)', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });
  const sign = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0);

  it('clipByGlobalNorm scales every update by maxNorm / max(norm, maxNorm), all variables together', () => {
    tf.tidy(() => {
      const a = tf.tensor([3, 0]),
        b = tf.tensor([0, 4]); // global norm 5
      const [ca, cb] = clipByGlobalNorm(1).update([a, b], 0);
      expect(Array.from(ca.dataSync())).toEqual([expect.closeTo(0.6, 6), 0]);
      expect(Array.from(cb.dataSync())).toEqual([0, expect.closeTo(0.8, 6)]);
      // under the norm: unchanged
      const [ua] = clipByGlobalNorm(10).update([a, b], 0);
      expect(Array.from(ua.dataSync())).toEqual([3, 0]);
    });
  });

  it('scaleByLearningRate multiplies variable i by lr_i times the schedule at the step', () => {
    const lrAt: LrFunction = (s: number) => (s === 7 ? 0.5 : 1);
    tf.tidy(() => {
      const [x, y] = scaleByLearningRate([0.1, 2], lrAt).update([tf.tensor([1, -1]), tf.tensor([3])], 7);
      expect(Array.from(x.dataSync())).toEqual([expect.closeTo(0.05, 7), expect.closeTo(-0.05, 7)]);
      expect(Array.from(y.dataSync())).toEqual([3]);
    });
  });

  it('three steps of clip -> Lion -> cosine schedule equal a float64 re-derivation', () => {
    const lr = 0.1,
      b1 = 0.9,
      b2 = 0.99,
      wd = 0.5,
      clip = 1;
    const sched = { kind: 'cosine', timescaleSteps: 4, warmupSteps: 1, floor: 0.2 } as const;
    const lrAt = lrFunction(sched);
    const v = tf.variable(tf.tensor([0.5, -0.25, 0.125]));
    const lion = new DenseLion([v], { lr, beta1: b1, beta2: b2, weightDecay: wd });
    const chain = new DenseChain([v], [clipByGlobalNorm(clip), lion, scaleByLearningRate([lr], lrAt)]);
    const th = [0.5, -0.25, 0.125],
      m = [0, 0, 0];
    expectStepsMatchReference(
      (g, s) => {
        const gt = tf.tensor(g);
        chain.apply([gt], s);
        gt.dispose();
        return v.dataSync();
      },
      (g, s) => {
        const norm = Math.hypot(...g),
          k = clip / Math.max(norm, clip),
          rate = lr * lrAt(s);
        for (let j = 0; j < 3; j++) {
          const gc = g[j] * k,
            c = b1 * m[j] + (1 - b1) * gc;
          th[j] -= rate * (sign(c) + wd * th[j]);
          m[j] = b2 * m[j] + (1 - b2) * gc;
        }
        return th;
      },
      [
        [3, -4, 0],
        [0.1, 0.2, -0.1],
        [-2, 2, 1],
      ],
    );
    expect(lion.step).toBe(3);
    lion.dispose();
    v.dispose();
  });

  it('DenseLion.apply (alone, at a fixed lr multiplier) equals the chain without clipping', () => {
    const p = { lr: 0.05, beta1: 0.8, beta2: 0.9, weightDecay: 0.1 };
    const a = tf.variable(tf.tensor([1, -2])),
      b = tf.variable(tf.tensor([1, -2]));
    const alone = new DenseLion([a], p),
      link = new DenseLion([b], p);
    const chain = new DenseChain([b], [link, scaleByLearningRate([p.lr], () => 0.5)]);
    for (const g of [
      [1, 1],
      [-3, 0.5],
    ]) {
      alone.apply([tf.tensor(g)], 0.5);
      chain.apply([tf.tensor(g)], 0);
    }
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(Array.from(a.dataSync())).not.toEqual([1, -2]);
    alone.dispose();
    link.dispose();
    a.dispose();
    b.dispose();
  });
});
