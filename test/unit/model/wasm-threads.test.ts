/**
 * tfjs-backend-wasm on 2 threads in Node (LIONCTR_WASM_THREADS, src/model/wasm-threads.ts):
 * the threaded-SIMD build loads, XNNPACK's pool reports 2 threads, and the dense tower's
 * forward logits, loss and gradients (the trainer's pass, src/model/tower-pass.ts, of its
 * weighted logloss)
 * match the single-threaded wasm build's, both built in turn in this one process.
 *
 * Tolerance, norm-wise per tensor: max|threaded - single| <= TOL * max|single|, TOL = 1e-5.
 * Both run the same XNNPACK float32 kernels (unit roundoff u = 2^-24 = 6.0e-8); splitting a
 * matmul across threads changes which tile a core computes, and the SIMD build's kernels
 * differ from the threaded-SIMD build's in blocking, so a length-n sum may be added in another
 * order: about sqrt(n)*u relative (n = 637: 1.5e-6; n = 1024 over the batch: 1.9e-6), through
 * three layers ~5e-6 at most. Observed: 0 (bit-identical; XNNPACK splits the output into
 * tiles, each summed in the same order on whichever thread), printed. No example is weighted 0
 * near a ReLU kink (native-parity.test.ts does): at differences of 0 no unit changes branch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/model/backend.ts';
import { reinitWasmBackend, wasmThreadsFromEnv } from '../../../src/model/wasm-threads.ts';
import { relDiff, towerData, towerForwardBackward, uniform } from '../../helpers/tower-grads.ts';

const TOL = 1e-5;
const [B, I, HIDDEN] = [1024, 637, [256, 128]];

const sizes = [I, ...HIDDEN, 1];
const { weights, x, labels } = towerData(sizes, B);
const exampleWeights = uniform(B, 0.5, 1.5, 9);

/** Logits, loss and gradients [d/dx, d/dW0, ...] of the tower on the current backend. */
const forwardBackward = () => towerForwardBackward({ I, B, hidden: HIDDEN, weights, x, labels, exampleWeights });

describe('LIONCTR_WASM_THREADS', () => {
  it('takes 1..8 or auto (the cores, at most 8) and refuses anything else, naming the variable', () => {
    expect(wasmThreadsFromEnv({})).toBe(1);
    expect(wasmThreadsFromEnv({ LIONCTR_WASM_THREADS: '2' })).toBe(2);
    expect(wasmThreadsFromEnv({ LIONCTR_WASM_THREADS: 'auto' }, 2)).toBe(2);
    expect(wasmThreadsFromEnv({ LIONCTR_WASM_THREADS: 'auto' }, 1)).toBe(1);
    expect(wasmThreadsFromEnv({ LIONCTR_WASM_THREADS: 'auto' }, 64)).toBe(8);
    for (const bad of ['0', '9', '1.5', 'two', 'Auto']) {
      expect(() => wasmThreadsFromEnv({ LIONCTR_WASM_THREADS: bad })).toThrow(/LIONCTR_WASM_THREADS/);
    }
  });
});

describe('wasm backend on 2 threads in Node', () => {
  afterAll(async () => {
    await reinitWasmBackend(1);
  });

  it(`runs the tower on 2 threads with the single-thread logits, loss and gradients within ${TOL}`, async () => {
    await selectBackend('wasm');
    expect(await reinitWasmBackend(1)).toBe(1);
    const single = forwardBackward();
    expect(await reinitWasmBackend(2)).toBe(2);
    expect(tf.getBackend()).toBe('wasm');
    expect(getThreadsCount()).toBe(2);
    // the pool's second thread is a running pthread worker (worker_threads.Worker)
    const pthread = (tf.backend() as unknown as { wasm: { PThread?: { runningWorkers: unknown[] } } }).wasm.PThread;
    expect(pthread?.runningWorkers.length).toBe(1);
    const threaded = forwardBackward();
    const names = ['logits', 'loss', 'd/dx', ...weights.map((_, i) => `d/d${i % 2 ? 'b' : 'W'}${i >> 1}`)];
    const diffs = [
      relDiff(threaded.logits, single.logits),
      relDiff(Float32Array.of(threaded.loss), Float32Array.of(single.loss)),
      ...threaded.grads.map((g, i) => relDiff(g, single.grads[i])),
    ];
    console.log(
      `wasm 2 threads vs 1, norm-wise relative: ${names.map((n, i) => `${n} ${diffs[i].toExponential(1)}`).join(', ')}`,
    );
    for (const [i, d] of diffs.entries()) expect(d, names[i]).toBeLessThanOrEqual(TOL);
    expect(single.grads[1].reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeGreaterThan(1e-6);
  }, 120_000);
});
