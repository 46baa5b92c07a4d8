/**
 * @module Reads a float32 tensor into an array the caller keeps from step to step (issue 13).
 * dataSync makes a new array each call; for the training step's tower-input gradient
 * ([4096, 637], 10 MB) the first writes into those fresh pages cost ~40 ms a step on wasm on
 * this host (page faults: ~0.5 ms to copy the same bytes into pages already touched;
 * bench/wasm-step.ts). On wasm the tensor's bytes are on the module's heap, so they are
 * copied from there straight into the reader's array; other backends read with dataSync
 * (tfjs-node's binding makes its own array: no gain to be had from here).
 */
import * as tf from '@tensorflow/tfjs-core';

/** The part of tfjs-backend-wasm's BackendWasm read here: a view of a tensor's heap bytes. */
interface WasmHeap {
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
}

/** Reads float32 tensors into one array it keeps (grown to the largest tensor read so far). */
export class Float32Reader {
  private buf = new Float32Array(0);

  /**
   * The t.size values of float32 tensor `t`, row-major. On wasm a view of this reader's
   * array, valid until the next read (and independent of `t` staying alive); on other
   * backends a new array from dataSync.
   * @throws Error when t is not float32.
   */
  read(t: tf.Tensor): Float32Array {
    if (t.dtype !== 'float32') throw new Error(`Float32Reader: ${t.dtype} tensor, float32 expected`);
    if (tf.getBackend() !== 'wasm') return t.dataSync() as Float32Array;
    if (this.buf.length < t.size) this.buf = new Float32Array(t.size);
    const out = this.buf.subarray(0, t.size);
    out.set((tf.backend() as unknown as WasmHeap).typedArrayFromHeap(t));
    return out;
  }
}
