/**
 * @module Opt-in multithreading for tfjs-backend-wasm under Node (`LIONCTR_WASM_THREADS=N` or `auto`).
 *
 * tfjs-backend-wasm 4.22 runs one thread in Node, for three reasons, each undone here at run
 * time (node_modules untouched) before the wasm backend initialises:
 * 1. flags_wasm.js answers `WASM_HAS_MULTITHREAD_SUPPORT` false whenever `IS_NODE`
 *    (tfjs issue 3830): we set the flag true.
 * 2. backend_wasm.js `init()` hands emscripten a `blob:` URL for the pthread worker script
 *    (locateFile) and a Blob for the main script (`mainScriptUrlOrBlob`); Node's
 *    worker_threads.Worker takes neither (ERR_WORKER_PATH). The emscripten glue sets
 *    `global.Worker = worker_threads.Worker` and calls `new Worker(url)` for its pool of 8;
 *    we keep `globalThis.Worker` on a subclass that runs the inlined worker source with
 *    `eval: true` and rewrites the worker's `load` message to the glue's file path, which the
 *    worker script `importScripts` (an fs read + eval under Node).
 * 3. backend.cc caps XNNPACK's pool at `emscripten_num_logical_cores() / 2` (it assumes SMT;
 *    under Node that is `os.cpus().length`), i.e. 1 thread on a 2-vCPU host. While the module
 *    initialises, `os.cpus()` reports at least 2N entries so that N threads are granted.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { Worker as NodeWorker, type WorkerOptions } from 'node:worker_threads';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { LionctrError } from '../errors.ts';

const require = createRequire(import.meta.url);
const GLUE = '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';
const WORKER = '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js';

/** The most threads XNNPACK's pool takes (backend.cc `max_num_threads`, the pool of 8 workers). */
export const MAX_WASM_THREADS = 8;

/**
 * The thread count LIONCTR_WASM_THREADS asks for: 1 (tfjs's single-threaded build) when unset
 * or empty; `auto`: the cores this process may use (os.availableParallelism), at most 8; else an
 * integer 1..8. The default stays 1: on 2 cores shared with other work, 2 threads trained slower
 * than 1 (README "Air-gapped hosts", wasm threads).
 * @param cores the cores `auto` counts (default os.availableParallelism()).
 * @throws LionctrError LIONCTR_BAD_CONFIG when the variable is neither `auto` nor such an integer.
 */
export function wasmThreadsFromEnv(env: NodeJS.ProcessEnv = process.env, cores = os.availableParallelism()): number {
  const raw = env.LIONCTR_WASM_THREADS;
  if (raw === undefined || raw === '') return 1;
  if (raw === 'auto') return Math.max(1, Math.min(MAX_WASM_THREADS, cores));
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
    const msg = `LIONCTR_WASM_THREADS=${raw} is neither auto nor an integer in 1..${MAX_WASM_THREADS}`;
    throw new LionctrError('LIONCTR_BAD_CONFIG', msg, { where: 'env LIONCTR_WASM_THREADS' });
  }
  return n;
}

let shimInstalled = false;

/** Keeps `globalThis.Worker` on a worker_threads.Worker that accepts tfjs's blob: worker URL. */
function installWorkerShim(): void {
  if (shimInstalled) return;
  const glue = require.resolve(GLUE);
  // the worker source as tfjs inlines it; its "\n" escapes are real newlines in the module's
  // template literal, so escape them again (as backend_wasm.js does before making its Blob)
  const source = (require(WORKER) as { wasmWorkerContents: string }).wasmWorkerContents.replace(/\n/g, '\\n');
  class PthreadWorker extends NodeWorker {
    constructor(url: string | URL, options?: WorkerOptions) {
      const blob = typeof url === 'string' && url.startsWith('blob:');
      super(blob ? source : url, blob ? { ...options, eval: true } : options);
    }
    override postMessage(msg: unknown, transfer?: Parameters<NodeWorker['postMessage']>[1]): void {
      const m = msg as { cmd?: string; urlOrBlob?: unknown } | null;
      // the main script comes as a Blob, which importScripts cannot read under Node: the file
      if (m?.cmd === 'load' && typeof m.urlOrBlob !== 'string') msg = { ...m, urlOrBlob: glue };
      super.postMessage(msg, transfer);
    }
  }
  // the glue assigns `global.Worker = worker_threads.Worker` when it starts: keep the shim
  Object.defineProperty(globalThis, 'Worker', { configurable: true, get: () => PthreadWorker, set: () => {} });
  shimInstalled = true;
}

/**
 * Prepares the next initialisation of the wasm backend to run XNNPACK on `threads` threads
 * (1: tfjs's single-threaded SIMD build, the default). Call before `tf.setBackend('wasm')`
 * (it has no effect on a wasm backend already initialised), and call the returned function
 * once `tf.ready()` resolved: it gives `os.cpus` back.
 * @param threads 1..8; the pthread pool always holds 8 idle workers (~2 MB each) when > 1.
 * @returns restore: undoes the `os.cpus` override (idempotent).
 */
export function prepareWasmThreads(threads: number): () => void {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threads > 1);
  setThreadsCount(threads > 1 ? threads : -1);
  if (threads <= 1) return () => {};
  installWorkerShim();
  const real = os.cpus;
  os.cpus = () => {
    const cpus = real();
    while (cpus.length > 0 && cpus.length < 2 * threads) cpus.push(cpus[0]);
    return cpus;
  };
  return () => {
    os.cpus = real;
  };
}

/**
 * Re-initialises the `wasm` backend on `threads` threads and makes it current (tests and
 * bench/wasm-threads.ts compare thread counts in one process): the registered factory is
 * removed (the old instance disposed, its pthread workers terminated) and registered again.
 * Tensors held on the old wasm backend are lost: call it with none alive.
 * @returns the thread count XNNPACK's pool reports.
 * @throws LionctrError LIONCTR_UNAVAILABLE when wasm was never registered or does not load.
 */
export async function reinitWasmBackend(threads: number): Promise<number> {
  const factory = tf.findBackendFactory('wasm');
  if (!factory) throw new LionctrError('LIONCTR_UNAVAILABLE', 'wasm backend not registered');
  tf.removeBackend('wasm');
  const restore = prepareWasmThreads(threads);
  try {
    tf.registerBackend('wasm', factory, 2);
    if (!(await tf.setBackend('wasm'))) throw new LionctrError('LIONCTR_UNAVAILABLE', 'wasm did not initialise');
    await tf.ready();
  } finally {
    restore();
  }
  return getThreadsCount();
}
