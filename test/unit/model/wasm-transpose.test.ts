/**
 * The wasm backend's tiled 2-D Transpose (src/model/wasm-transpose.ts) against the cpu backend's
 * transpose (an independent kernel) bit for bit, NaN payloads and -0 included, for shapes that do
 * and do not divide its tile, with size-1 dims around, int32 too; the cases it leaves to tfjs's
 * kernel (3 dims swapped, no-op perms) still right; no tensor left behind. And Float32Reader
 * (src/model/float32-reader.ts): the values of tensors of several sizes read into one array.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/model/backend.ts';
import { Float32Reader } from '../../../src/model/float32-reader.ts';
import { transpose2d } from '../../../src/model/wasm-transpose.ts';

/** Bits of a float32 array as int32 (NaN payloads and -0 compare exactly). */
const bits = (a: tf.TypedArray): Int32Array => new Int32Array(a.buffer, a.byteOffset, a.length);

/** n float32 values with specials: NaNs with payloads, -0, infinities. */
function values(n: number): Float32Array {
  const v = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.3) * 10 ** ((i % 9) - 4));
  const u = new Int32Array(v.buffer);
  for (let i = 5; i < n; i += 97) u[i] = 0x7fc00000 + (i % 1000); // quiet NaNs with payloads
  for (let i = 11; i < n; i += 89) v[i] = -0;
  if (n > 3) [v[2], v[3]] = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  return v;
}

/** The transpose of x by perm on `name`, as bits (int32 tensors as their values). */
async function on(name: 'wasm' | 'cpu', data: Float32Array | Int32Array, shape: number[], perm?: number[]) {
  await selectBackend(name);
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => {
    const y = tf.transpose(tf.tensor(data, shape), perm);
    return { shape: y.shape, data: y.dataSync().slice() };
  });
  expect(tf.memory().numTensors).toBe(before);
  return { shape: out.shape, data: out.data instanceof Int32Array ? out.data : bits(out.data) };
}

describe('wasm Transpose (tiled 2-D)', () => {
  afterAll(async () => {
    await selectBackend('wasm');
  });

  it.each([
    [[513, 637], undefined],
    [[37, 5], undefined],
    [[16, 16], undefined],
    [
      [1, 33, 1, 17],
      [3, 1, 2, 0],
    ],
    [
      [1, 33, 17],
      [0, 2, 1],
    ],
    [
      [33, 17, 1],
      [2, 1, 0],
    ],
    [[1, 1], undefined],
    [[5, 1], undefined],
    [
      [4, 6, 5],
      [2, 1, 0],
    ],
    [
      [4, 6, 5],
      [0, 1, 2],
    ],
  ] as [number[], number[] | undefined][])('float32 %j perm %j: the cpu backend bits', async (shape, perm) => {
    const x = values(shape.reduce((a, b) => a * b, 1));
    const want = await on('cpu', x, shape, perm);
    const got = await on('wasm', x, shape, perm);
    expect(got.shape).toEqual(want.shape);
    expect(Buffer.from(got.data.buffer).equals(Buffer.from(want.data.buffer))).toBe(true);
  });

  it('int32 [300, 41]: the cpu backend values', async () => {
    const x = Int32Array.from({ length: 300 * 41 }, (_, i) => (i * 2654435761) | 0);
    const want = await on('cpu', x, [300, 41]);
    const got = await on('wasm', x, [300, 41]);
    expect(got.data).toEqual(want.data);
  });

  it('transpose2d: a non-square shape whose rows do not fill the last tile', () => {
    const [R, C] = [19, 7];
    const src = Int32Array.from({ length: R * C }, (_, i) => i);
    const dst = new Int32Array(R * C);
    transpose2d(src, dst, R, C);
    for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) expect(dst[j * R + i]).toBe(src[i * C + j]);
  });
});

describe('Float32Reader', () => {
  it.each(['wasm', 'cpu'] as const)('on %s: the values of tensors of several sizes, one array reused', async (name) => {
    await selectBackend(name);
    const reader = new Float32Reader();
    const got: Float32Array[] = [];
    for (const n of [1000, 10, 3000, 3000]) {
      const v = values(n);
      const read = tf.tidy(() => reader.read(tf.tensor2d(v, [n / 10, 10])));
      expect(bits(read)).toEqual(bits(v));
      got.push(read);
    }
    if (name === 'wasm') {
      expect(got[1].buffer).toBe(got[0].buffer); // 10 values fit the array of 1000
      expect(got[3].buffer).toBe(got[2].buffer);
    }
    const int = tf.tensor1d([1], 'int32');
    expect(() => reader.read(int)).toThrow(/float32/);
    int.dispose();
    await selectBackend('wasm');
  });
});
