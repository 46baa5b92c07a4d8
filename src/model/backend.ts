import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { LionctrError } from '../errors.ts';
import { prepareWasmThreads, wasmThreadsFromEnv } from './wasm-threads.ts';
import { patchWasmTranspose } from './wasm-transpose.ts';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs';
import { tuneMalloc } from './malloc-tunables.ts';

/**
 * TensorFlow.js backend selection (DESIGN.md "Backends"): native `tensorflow` from
 * @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node when installed, built and loadable (on
 * hosts without internet `npm run native:build` builds tfjs-node, README "Air-gapped hosts"),
 * then `wasm` (with the transposed-matmul fix below; on N threads with `LIONCTR_WASM_THREADS=N|auto`,
 * see wasm-threads.ts), then `cpu`. Returns the chosen backend
 * and, for each one passed over, why; the caller's log line says both.
 */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export interface BackendChoice {
  backend: BackendName;
  tried: { backend: string; why: string }[];
}

let chosen: BackendChoice | undefined;

/** The " (passed over: name: why; ...)" part of the backend log line, or "" when none was. */
const passedOver = (tried: { backend: string; why: string }[]): string =>
  tried.length ? ` (passed over: ${tried.map((t) => `${t.backend}: ${t.why}`).join('; ')})` : '';

const NAMES: readonly string[] = ['tensorflow', 'wasm', 'cpu'];

/**
 * Selects and initialises the backend once per process.
 * @param prefer 'auto' (the order above; the environment's `LIONCTR_BACKEND` when it names a
 *   backend, as the config key `backend` does for the commands) or one backend to force.
 * @param opts.tfThreads TensorFlow's intra-op threads when the native backend loads here and
 *   TF_NUM_INTRAOP_THREADS is unset (trainerTfThreads); absent: TensorFlow's default.
 * @throws LionctrError LIONCTR_UNAVAILABLE when a forced backend cannot load, or none can
 *   (saying why for each); LIONCTR_BAD_CONFIG when `LIONCTR_BACKEND` names no backend or
 *   LIONCTR_WASM_THREADS is neither auto nor an integer in 1..8.
 */
export async function selectBackend(
  prefer: 'auto' | BackendName = 'auto',
  log: (msg: string) => void = () => {},
  opts: { tfThreads?: number } = {},
): Promise<BackendChoice> {
  const env = process.env.LIONCTR_BACKEND;
  if (prefer === 'auto' && env && env !== 'auto') {
    if (!NAMES.includes(env)) {
      const msg = `LIONCTR_BACKEND=${env} names no backend (auto, ${NAMES.join(', ')})`;
      throw new LionctrError('LIONCTR_BAD_CONFIG', msg, { where: 'LIONCTR_BACKEND' });
    }
    prefer = env as BackendName;
  }
  if (chosen && (prefer === 'auto' || prefer === chosen.backend)) return chosen;
  const wasmThreads = wasmThreadsFromEnv(); // a bad value is a config error, not a reason to pass wasm over
  const tried: { backend: string; why: string }[] = [];
  const order: BackendName[] = prefer === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [prefer];
  for (const name of order) {
    let restore = () => {};
    try {
      if (name === 'tensorflow') loadNative(NATIVE_PACKAGES, opts.tfThreads);
      if (name === 'wasm') {
        patchWasmTransposedMatMul();
        restore = prepareWasmThreads(wasmThreads);
      }
      if (!(await tf.setBackend(name))) throw new LionctrError('LIONCTR_UNAVAILABLE', 'setBackend returned false');
      await tf.ready();
      restore();
      chosen = { backend: name, tried };
      const n = name === 'wasm' ? getThreadsCount() : 1,
        tfN = process.env.TF_NUM_INTRAOP_THREADS;
      const threads =
        n > 1
          ? ` on ${n} threads (LIONCTR_WASM_THREADS)`
          : name === 'tensorflow' && tfN
            ? ` on ${tfN} intra-op threads (TF_NUM_INTRAOP_THREADS)`
            : '';
      log(`tfjs backend: ${name}${threads}${passedOver(tried)}`);
      // read-backs into fresh pages (malloc-tunables.ts); the addon comes with the native build
      tuneMalloc(log, process.env, undefined, name === 'tensorflow');
      return chosen;
    } catch (err) {
      restore();
      const why = (err as Error).message.split('\n')[0];
      if (prefer !== 'auto') throw new LionctrError('LIONCTR_UNAVAILABLE', `backend ${name} cannot load: ${why}`);
      tried.push({ backend: name, why });
    }
  }
  const whys = tried.map((t) => `${t.backend}: ${t.why}`).join('; ');
  throw new LionctrError('LIONCTR_UNAVAILABLE', `no tfjs backend could load: ${whys}`);
}

/**
 * TensorFlow's intra-op threads for a trainer (README "Ingest thread"): with the ingest thread on
 * (source.thread.enabled), one less than the cores the process may use (at least 1), since
 * reading and featurizing keep a core busy; measured on 2 cores (bench suite, `--tf-threads
 * 1,2`, raw Criteo file, batch 4096, load 1.9-3.5) 1 thread beat 2 in 10 rounds of 10, median
 * 1.10x. Without the ingest thread: undefined (TensorFlow's own default, all cores).
 */
export function trainerTfThreads(ingestThread: boolean, cores = availableParallelism()): number | undefined {
  return ingestThread ? Math.max(1, cores - 1) : undefined;
}

/** The native packages, GPU build first. */
export const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

/** Where a native package's built addon is (`lib/napi-v*\/tfjs_binding.node`), or undefined. */
function builtAddon(pkgDir: string): string | undefined {
  const lib = join(pkgDir, 'lib');
  if (!existsSync(lib)) return undefined;
  return readdirSync(lib)
    .map((d) => join(lib, d, 'tfjs_binding.node'))
    .find((f) => existsSync(f));
}

/**
 * Loads the first native package of `packages` that is installed, built and loadable, its
 * intra-op pool at `tfThreads` threads unless TF_NUM_INTRAOP_THREADS is set (the environment
 * wins; TensorFlow reads it when the first context of the process is made, so the process's
 * first load decides). A
 * package installed without its addon (e.g. by `npm install --ignore-scripts`) is passed over
 * without being loaded; one whose load fails (a GPU build without CUDA) has the `tensorflow`
 * kernels it registered removed again, so that the next package registers its own.
 * @throws LionctrError LIONCTR_UNAVAILABLE saying why for each package, and that
 *   `npm run native:build` builds @tensorflow/tfjs-node.
 */
export function loadNative(packages: string[] = NATIVE_PACKAGES, tfThreads?: number): void {
  const require = createRequire(import.meta.url);
  const errors: string[] = [];
  for (const pkg of packages) {
    let dir: string;
    try {
      dir = dirname(require.resolve(`${pkg}/package.json`));
    } catch {
      errors.push(`${pkg}: not installed`);
      continue;
    }
    if (!builtAddon(dir)) {
      errors.push(`${pkg}: installed but its addon is not built (no lib/napi-v*/tfjs_binding.node)`);
      continue;
    }
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
    if (tfThreads !== undefined && !process.env.TF_NUM_INTRAOP_THREADS)
      process.env.TF_NUM_INTRAOP_THREADS = String(tfThreads);
    try {
      require(pkg);
      return;
    } catch (err) {
      for (const k of tf.getKernelsForBackend('tensorflow')) tf.unregisterKernel(k.kernelName, 'tensorflow');
      errors.push(`${pkg}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  errors.push('`npm run native:build` builds @tensorflow/tfjs-node without a download (README "Air-gapped hosts")');
  throw new LionctrError('LIONCTR_UNAVAILABLE', errors.join('; '));
}

let wasmPatched = false;

/**
 * tfjs-backend-wasm 4.22 runs BatchMatMul with transposeA/transposeB (every backward
 * matmul) on a slow path: ~2 GFLOP/s against ~28 for the plain kernel on 2 cores. This
 * re-registers BatchMatMul for wasm so a transposed operand is transposed first (a cheap
 * memory pass with wasm-transpose.ts's kernel, also registered here) and the plain kernel
 * runs. Results are identical up to float rounding.
 */
export function patchWasmTransposedMatMul(): void {
  if (wasmPatched) return;
  patchWasmTranspose();
  const orig = tf.getKernel('BatchMatMul', 'wasm');
  if (!orig || !tf.getKernel('Transpose', 'wasm')) {
    throw new LionctrError('LIONCTR_UNAVAILABLE', 'wasm BatchMatMul/Transpose kernels not registered');
  }
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    setupFunc: orig.setupFunc,
    disposeFunc: orig.disposeFunc,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return orig.kernelFunc({ inputs, backend, attrs });
      const swapLast = (x: tf.TensorInfo): tf.TensorInfo => {
        const r = x.shape.length;
        const perm = [...Array(r).keys()];
        [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
        // looked up per call: the Transpose registered now (bench/wasm-step.ts swaps it)
        const transpose = tf.getKernel('Transpose', 'wasm') as tf.KernelConfig;
        return transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
      };
      const a2 = transposeA ? swapLast(a) : a;
      const b2 = transposeB ? swapLast(b) : b;
      const out = orig.kernelFunc({
        inputs: { a: a2, b: b2 },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
      const wasm = backend as { disposeData(id: object): void };
      if (a2 !== a) wasm.disposeData(a2.dataId);
      if (b2 !== b) wasm.disposeData(b2.dataId);
      return out;
    },
  });
  wasmPatched = true;
}
