/**
 * The tower written as ONNX (src/model/onnx-tower.ts) scores like the tfjs tower: onnxruntime-node
 * on the serialized bytes against DenseTower.logits on the same random inputs, within 1e-5, for
 * towers with no, one and three hidden layers (random non-zero biases, so a dropped or misplaced
 * bias shows), and inputs with negative values (so a missing or misplaced ReLU shows).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/model/backend.ts';
import { ONNX_INPUT, ONNX_OUTPUT, towerToOnnx } from '../../../src/model/onnx-tower.ts';
import { DenseTower } from '../../../src/model/tower.ts';
import { mulberry32 } from '../../helpers/prng.ts';

/** Deterministic uniforms in [-a, a) (mulberry32). */
function uniforms(n: number, a: number, seed: number): Float32Array {
  const u = mulberry32(seed);
  return Float32Array.from({ length: n }, () => (u() * 2 - 1) * a);
}

describe('ONNX tower', () => {
  beforeAll(async () => {
    await selectBackend('auto');
  });

  for (const hidden of [[], [8], [32, 16, 8]]) {
    it(`onnxruntime matches tfjs within 1e-5 (hidden [${hidden}])`, async () => {
      const I = 23,
        B = 64;
      const sizes = [I, ...hidden, 1];
      const values = sizes
        .slice(1)
        .flatMap((out, l) => [
          uniforms(sizes[l] * out, Math.sqrt(6 / (sizes[l] + out)), 10 + l),
          uniforms(out, 0.5, 100 + l),
        ]);
      const tower = new DenseTower(I, hidden, { values, trainable: false });
      const x = uniforms(B * I, 3, 7);
      const want = tf.tidy(() => tower.logits(tf.tensor2d(x, [B, I])).dataSync() as Float32Array);
      tower.dispose();

      const session = await ort.InferenceSession.create(towerToOnnx(I, hidden, values));
      expect(session.inputNames).toEqual([ONNX_INPUT]);
      expect(session.outputNames).toEqual([ONNX_OUTPUT]);
      const out = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', x, [B, I]) });
      const got = out[ONNX_OUTPUT];
      expect(got.dims).toEqual([B]);
      const data = got.data as Float32Array;
      let maxDiff = 0;
      for (let b = 0; b < B; b++) maxDiff = Math.max(maxDiff, Math.abs(data[b] - want[b]));
      expect(maxDiff).toBeLessThan(1e-5);
      // the logits vary: a constant output would match nothing above by chance, but say so
      expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(0.1);
      await session.release();
    });
  }

  it('refuses weights that do not match the shapes', () => {
    const ok = [new Float32Array(6), new Float32Array(2), new Float32Array(2), new Float32Array(1)];
    expect(() => towerToOnnx(3, [2], ok.slice(0, 3))).toThrow(/3 weight arrays for 4 variables/);
    expect(() => towerToOnnx(4, [2], ok)).toThrow(/layer 0 has 6 \+ 2 values, expected 4x2 \+ 2/);
  });
});
