import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/model/backend.ts';
import { sparseAdamStep } from '../../../../src/train/optim/adam.ts';
import { RowStore } from '../../../../src/model/row-store.ts';
import { fromBf16, toBf16 } from '../../../../src/train/optim/bf16.ts';
import { DenseLion } from '../../../../src/train/optim/dense-lion.ts';
import { clipByGlobalNorm, DenseChain, scaleByLearningRate } from '../../../../src/train/optim/dense-chain.ts';
import { CONSTANT_LR, lrFunction } from '../../../../src/train/optim/schedule.ts';
import { expectStepsMatchReference } from '../../../helpers/reference-steps.ts';

describe('bfloat16 conversion', () => {
  it('rounds to nearest, ties to even, and keeps NaN/Inf', () => {
    expect(toBf16(1)).toBe(0x3f80);
    expect(fromBf16(0x3f80)).toBe(1);
    // 1 + 2^-8 is exactly halfway between bf16 1 and 1 + 2^-7: ties to even (1)
    expect(fromBf16(toBf16(1 + 2 ** -8))).toBe(1);
    // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 (odd mantissa) and 1 + 2^-6: ties to even (1 + 2^-6)
    expect(fromBf16(toBf16(1 + 3 * 2 ** -8))).toBe(1 + 2 ** -6);
    expect(fromBf16(toBf16(1 + 2 ** -8 + 2 ** -12))).toBe(1 + 2 ** -7); // above half: up
    expect(fromBf16(toBf16(-0.3))).toBeCloseTo(-0.3, 2);
    expect(Number.isNaN(fromBf16(toBf16(NaN)))).toBe(true);
    expect(fromBf16(toBf16(Infinity))).toBe(Infinity);
  });
});

describe('sparse AdamW (comparison optimizer)', () => {
  it('matches a float64 re-derivation over 3 steps', () => {
    const W = 3,
      p = { lr: 0.01, beta1: 0.9, beta2: 0.999, weightDecay: 0.1, eps: 1e-8 };
    const rows = new RowStore(W, 1);
    rows.setWeights(0, [0.5, -0.2, 0.1]);
    const second = new Float32Array(W);
    const th = [0.5, -0.2, 0.1],
      m = [0, 0, 0],
      v = [0, 0, 0];
    expectStepsMatchReference(
      (g, k) => {
        sparseAdamStep(rows, second, new Int32Array([0]), 1, new Float32Array(g), p, p, k + 1, 1);
        return rows.getWeights(0);
      },
      (g, k) => {
        const t = k + 1;
        for (let j = 0; j < W; j++) {
          m[j] = 0.9 * m[j] + 0.1 * g[j];
          v[j] = 0.999 * v[j] + 0.001 * g[j] ** 2;
          th[j] -= 0.01 * (m[j] / (1 - 0.9 ** t) / (Math.sqrt(v[j] / (1 - 0.999 ** t)) + 1e-8) + 0.1 * th[j]);
        }
        return th;
      },
      [
        [0.3, -0.1, 0.0],
        [0.2, 0.4, -0.5],
        [-0.1, 0.1, 0.2],
      ],
    );
  });
});

describe('dense Lion gradient clipping', () => {
  beforeAll(async () => {
    await selectBackend('auto');
  });
  it('scales gradients to the global norm before the momentum update', () => {
    const v = tf.variable(tf.tensor([0, 0])),
      u = tf.variable(tf.tensor([0, 0]));
    // clipping is a link of the dense chain before Lion (dense-chain.ts)
    const opt = new DenseLion([v], { lr: 0.1, beta1: 0.9, beta2: 0.5, weightDecay: 0 });
    const chain = new DenseChain([v], [clipByGlobalNorm(1), opt, scaleByLearningRate([0.1], lrFunction(CONSTANT_LR))]);
    const ref = new DenseLion([u], { lr: 0.1, beta1: 0.9, beta2: 0.5, weightDecay: 0 });
    const g = tf.tensor([30, -40]); // norm 50 -> clipped to [0.6, -0.8]
    chain.apply([g], 0);
    ref.apply([tf.tensor([0.6, -0.8])]);
    expect(Array.from(v.dataSync())).toEqual(Array.from(u.dataSync()));
    return opt.getState().then((s) => {
      expect(s.momentum[0][0]).toBeCloseTo(0.3, 6);
      expect(s.momentum[0][1]).toBeCloseTo(-0.4, 6);
    });
  });
});

describe('Lion settings from AdamW (paper sec. 5)', () => {
  it('divides lr and multiplies wd by the factor, keeping lr * wd', async () => {
    const { lionFromAdamW } = await import('../../../../src/train/optim/lion-config.ts');
    const l = lionFromAdamW({ lr: 3e-3, beta1: 0.9, beta2: 0.99, weightDecay: 0.1 }, 10);
    expect(l.lr).toBeCloseTo(3e-4, 12);
    expect(l.weightDecay).toBeCloseTo(1, 12);
    expect(l.lr * l.weightDecay).toBeCloseTo(3e-3 * 0.1, 12);
    expect(() => lionFromAdamW(l, 0.5)).toThrow(RangeError);
  });
});
