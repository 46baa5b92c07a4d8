/**
 * The tower's ReLU step in the backward pass (reluBackward, src/model/tower-pass.ts): on every
 * backend it gives dh * [h > 0] with the bits of the Greater, Cast and Mul it replaced on native
 * TensorFlow (one ReluGrad op there), -0 and NaN included (dh * 0 is -0 for a negative dh and NaN
 * for a NaN one: the train step's finite check must still see a NaN under a dead unit), and
 * leaves no tensor behind. The native case runs where the backend is built (npm run native:build).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { type BackendName, loadNative, selectBackend } from '../../../src/model/backend.ts';
import { reluBackward } from '../../../src/model/tower-pass.ts';

const native = (() => {
  try {
    loadNative();
    return true;
  } catch {
    return false;
  }
})();
const backends: BackendName[] = [...(native ? (['tensorflow'] as const) : []), 'wasm', 'cpu'];

describe('reluBackward (dh * [h > 0])', () => {
  afterAll(async () => {
    await selectBackend('wasm');
  });

  const [B, H] = [64, 48];
  const h = Float32Array.from({ length: B * H }, (_, i) => (i % 3 === 0 ? 0 : Math.abs(Math.sin(i)) * (i % 7)));
  const dh = Float32Array.from({ length: B * H }, (_, i) => Math.cos(i * 0.7) * 10);
  // specials under dead units (h = 0 at i % 3 == 0) and under live ones
  for (const [i, v] of [
    [0, Number.NaN],
    [1, Number.NaN],
    [3, Number.POSITIVE_INFINITY],
    [4, Number.NEGATIVE_INFINITY],
    [6, -0],
    [7, -0],
    [9, -1e-30],
    [12, 0],
  ] as const)
    dh[i] = v;

  it.each(backends)('on %s: the bits of dh * cast(h > 0), -0 and NaN included, and no tensor left', async (name) => {
    await selectBackend(name);
    expect(tf.getBackend()).toBe(name);
    const before = tf.memory().numTensors;
    let got: Float32Array = new Float32Array(0),
      want: Float32Array = new Float32Array(0);
    tf.tidy(() => {
      const [a, b] = [tf.tensor2d(dh, [B, H]), tf.tensor2d(h, [B, H])];
      got = reluBackward(a, b).dataSync() as Float32Array;
      want = tf.mul(a, tf.cast(tf.greater(b, 0), 'float32')).dataSync() as Float32Array;
    });
    expect(tf.memory().numTensors).toBe(before);
    const differ: number[] = [];
    for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) differ.push(i);
    expect(differ).toEqual([]);
    expect([got[0], got[1], got[3], got[4], got[6], got[7], got[9]]).toEqual([
      Number.NaN,
      Number.NaN,
      Number.NaN,
      Number.NEGATIVE_INFINITY,
      -0,
      -0,
      -0,
    ]);
  });
});
