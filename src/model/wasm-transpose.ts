/**
 * @module A faster 2-D transpose for tfjs-backend-wasm (issue 13). Its Transpose kernel (4.22,
 * transpose_impl.cc `transpose_2d`) walks the input row by row and writes the output with a
 * stride of one whole output row, a cache miss per element: 33-49 ms for [4096, 637] on this
 * host, where the tiled copy below takes ~5 ms (1.5-2 ns an element; bench/wasm-step.ts).
 * The tower's backward transposes an activation or gradient of that size for every weight
 * gradient on wasm (backend.ts patchWasmTransposedMatMul), so this is a share of the step.
 *
 * The copy runs in JavaScript on the wasm heap (the tensors' own memory, no copy in or out),
 * as 32-bit integers so that every bit pattern (NaN payloads, -0) is kept exactly.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LionctrError } from '../errors.ts';

/** Rows of the input copied together: 8-16 were fastest for [4096, 637] and [4096, 256]. */
const TILE = 16;

/**
 * dst[j * R + i] = src[i * C + j] for an [R, C] row-major src: the [C, R] transpose. Tiles of
 * TILE input rows; within a tile each output row is written contiguously while the reads
 * step down an input column (TILE lines of the input stay in cache across the columns).
 */
export function transpose2d(src: Int32Array, dst: Int32Array, R: number, C: number): void {
  for (let i0 = 0; i0 < R; i0 += TILE) {
    const i1 = Math.min(i0 + TILE, R);
    for (let j = 0; j < C; j++) {
      let d = j * R + i0,
        s = i0 * C + j;
      for (let i = i0; i < i1; i++, d++, s += C) dst[d] = src[s];
    }
  }
}

/** The parts of tfjs-backend-wasm's BackendWasm this kernel uses. */
interface WasmHeap {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
}

/**
 * The wasm backend's Transpose kernel for a float32 or int32 tensor whose dims other than 1
 * are two, swapped by perm ([R, C] -> [C, R], also [1, R, C] with perm [0, 2, 1] and the
 * like); undefined for any other case (the caller runs tfjs's kernel). Same values, same bits.
 */
export function fastTranspose(x: tf.TensorInfo, perm: number[], backend: WasmHeap): tf.TensorInfo | undefined {
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return undefined;
  const big = perm.filter((p) => x.shape[p] !== 1);
  if (big.length !== 2 || big[0] < big[1]) return undefined; // not two dims, or not swapped
  const [R, C] = [x.shape[big[1]], x.shape[big[0]]];
  const out = backend.makeOutput(
    perm.map((p) => x.shape[p]),
    x.dtype,
  );
  // views after makeOutput: its malloc may grow the heap (a new buffer)
  const src = backend.typedArrayFromHeap(x),
    dst = backend.typedArrayFromHeap(out);
  transpose2d(
    new Int32Array(src.buffer, src.byteOffset, R * C),
    new Int32Array(dst.buffer, dst.byteOffset, R * C),
    R,
    C,
  );
  return out;
}

let registered = false;

/**
 * Re-registers wasm's Transpose so that the cases fastTranspose takes run there and every
 * other case runs tfjs's kernel. Idempotent.
 * @throws LionctrError LIONCTR_UNAVAILABLE when tfjs-backend-wasm registered no Transpose kernel.
 */
export function patchWasmTranspose(): void {
  if (registered) return;
  const orig = tf.getKernel('Transpose', 'wasm');
  if (!orig) throw new LionctrError('LIONCTR_UNAVAILABLE', 'wasm Transpose kernel not registered');
  tf.unregisterKernel('Transpose', 'wasm');
  tf.registerKernel({
    ...orig,
    kernelFunc: (args) => {
      const x = (args.inputs as { x: tf.TensorInfo }).x;
      const perm = (args.attrs as unknown as { perm: number[] }).perm;
      return fastTranspose(x, perm, args.backend as unknown as WasmHeap) ?? orig.kernelFunc(args);
    },
  });
  registered = true;
}
