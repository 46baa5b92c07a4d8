/**
 * The dense tower as serving runs it (config `serve.tower`): onnxruntime-node on the tower's ONNX
 * graph (src/model/onnx-tower.ts, the graph of an export's dense/model.onnx) or tfjs on the
 * tower's variables. `auto` takes onnxruntime when its native binding loads, tfjs otherwise.
 * Measured by bench/serving-tower.ts (default tower 637 -> 256 -> 128 -> 1, wasm backend, one
 * thread): onnxruntime takes 0.14-0.3x tfjs's time per request at 16 and 256 rows, so it is the
 * default. Both give the same logits within 1e-5 (test/unit/model/serving-tower.test.ts).
 *
 * One ONNX session per loaded model, built from the weights the model holds (so tfjs and
 * onnxruntime score the same weights), released by CtrModel.dispose (the serving registry
 * disposes a version when its last request ends).
 */
import type * as Ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs-core';
import { LionctrError } from '../errors.ts';
import { ONNX_INPUT, ONNX_OUTPUT, towerToOnnx } from './onnx-tower.ts';
import type { DenseTower } from './tower.ts';

/** serve.tower: which runtime scores the dense tower when serving. */
export type TowerChoice = 'auto' | 'onnx' | 'tfjs';

/** How serving towers are made (config `serve.tower`, `serve.towerThreads`). */
export interface ServingTowerOptions {
  kind: TowerChoice;
  /** onnxruntime intra-op threads per session (1: the request's own thread only). */
  threads: number;
}

let defaults: ServingTowerOptions = { kind: 'auto', threads: 1 };

/** Sets how later loads make their serving tower (once per process, from config, as selectBackend). */
export function configureServingTower(o: Partial<ServingTowerOptions>): void {
  defaults = { ...defaults, ...o };
}

/** The options loads use now. */
export const servingTowerOptions = (): ServingTowerOptions => defaults;

/** A tower that scores served requests: logits [B] (global bias included; no wide or FM part) of x [B, I]. */
export interface ServingTower {
  readonly kind: 'onnx' | 'tfjs';
  /** Logits [B] of x [B, I] (row-major float32). Async: onnxruntime runs after a turn of the event loop. */
  logits(x: Float32Array, rows: number): Promise<Float32Array>;
  /** Frees the runtime's resources (an ONNX session); idempotent. */
  dispose(): void;
}

let liveSessions = 0;

/** ONNX sessions created and not released yet, in this process (leak checks). */
export const liveOnnxSessions = (): number => liveSessions;

let ortModule: Promise<typeof Ort> | undefined;

/** onnxruntime-node, loaded once (its native binding may be missing on a platform: `auto` then uses tfjs). */
const loadOrt = (): Promise<typeof Ort> => {
  ortModule ??= import('onnxruntime-node');
  return ortModule;
};

/** tfjs on the tower's own variables (the model owns and frees them). */
function tfjsTower(tower: DenseTower): ServingTower {
  return {
    kind: 'tfjs',
    logits: async (x, rows) =>
      tf.tidy(() => tower.logits(tf.tensor2d(x, [rows, tower.inputDim])).dataSync() as Float32Array),
    dispose: () => {},
  };
}

/**
 * Most rows one merged onnxruntime run takes (more wait for the next run; a call of this many
 * rows or more runs alone). A run of 256 rows costs little more per row than one of 1024, and
 * merging large calls only adds copies and waits (bench/serve-speed.ts at 256 instances per request).
 */
export const MAX_MERGED_ROWS = 256;

/** A logits() call waiting for the next run. */
interface Pending {
  x: Float32Array;
  rows: number;
  resolve: (z: Float32Array) => void;
  reject: (e: unknown) => void;
}

let mergedRuns = 0;

/** onnxruntime runs that scored the rows of more than one logits() call, in this process (tests, benches). */
export const mergedOnnxRuns = (): number => mergedRuns;

/**
 * Merges the logits() calls made in one turn of the event loop into one run of `run` (TF
 * Serving's request batching, with no wait of its own: the calls of the requests parsed in one
 * poll phase are run together in the next check phase, where onnxruntime-node would run each
 * of them anyway). One run of M rows costs less than M/16 runs of 16 rows (measured with
 * bench/serve-speed.ts: onnxruntime's per-call work and the smaller matrices' lower FLOP rate).
 * Each call gets its own rows of the merged output (a view), row for row as a run of its own.
 * Runs hold at most MAX_MERGED_ROWS rows (a larger call runs alone).
 */
function merging(I: number, run: (x: Float32Array, rows: number) => Promise<Float32Array>) {
  let queue: Pending[] = [];
  // merged inputs done with (a new ArrayBuffer per run drives V8 to full GCs: external memory)
  const pool: Float32Array[] = [];
  const runGroup = async (group: Pending[], rows: number) => {
    let x = group[0].x,
      buf: Float32Array | undefined;
    if (group.length > 1) {
      mergedRuns++;
      buf = pool.pop();
      if (!buf || buf.length < rows * I) buf = new Float32Array(MAX_MERGED_ROWS * I);
      x = buf.subarray(0, rows * I);
      let o = 0;
      for (const p of group) {
        x.set(p.x.subarray(0, p.rows * I), o * I);
        o += p.rows;
      }
    }
    try {
      const z = await run(x, rows);
      let o = 0;
      for (const p of group) {
        p.resolve(group.length > 1 ? z.subarray(o, o + p.rows) : z);
        o += p.rows;
      }
    } catch (e) {
      for (const p of group) p.reject(e);
    }
    if (buf && pool.length < 2) pool.push(buf);
  };
  const flush = () => {
    const all = queue;
    queue = [];
    let group: Pending[] = [],
      rows = 0;
    for (const p of all) {
      if (group.length > 0 && rows + p.rows > MAX_MERGED_ROWS) {
        void runGroup(group, rows);
        group = [];
        rows = 0;
      }
      group.push(p);
      rows += p.rows;
    }
    void runGroup(group, rows);
  };
  return (x: Float32Array, rows: number) =>
    new Promise<Float32Array>((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ x, rows, resolve, reject });
    });
}

async function onnxTower(tower: DenseTower, threads: number): Promise<ServingTower> {
  const ort = await loadOrt();
  const values = tower.vars.map((v) => v.dataSync() as Float32Array);
  const session = await ort.InferenceSession.create(towerToOnnx(tower.inputDim, tower.hidden, values), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  liveSessions++;
  let released = false;
  const I = tower.inputDim;
  const merged = merging(I, async (x, rows) => {
    if (released) throw new LionctrError('LIONCTR_INTERNAL', 'serving tower used after it was released');
    const out = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', x, [rows, I]) });
    return out[ONNX_OUTPUT].data as Float32Array;
  });
  return {
    kind: 'onnx',
    logits: (x, rows) =>
      released
        ? Promise.reject(new LionctrError('LIONCTR_INTERNAL', 'serving tower used after it was released'))
        : merged(x, rows),
    dispose: () => {
      if (released) return;
      released = true;
      liveSessions--;
      void session.release();
    },
  };
}

/**
 * The serving tower of `tower`'s current weights.
 * @throws LionctrError LIONCTR_UNAVAILABLE when `onnx` is asked for and onnxruntime cannot load
 *   or refuses the graph (saying why); `auto` falls back to tfjs then.
 */
export async function createServingTower(
  tower: DenseTower,
  opts: ServingTowerOptions = defaults,
): Promise<ServingTower> {
  if (opts.kind === 'tfjs') return tfjsTower(tower);
  try {
    return await onnxTower(tower, opts.threads);
  } catch (err) {
    if (opts.kind === 'auto') return tfjsTower(tower);
    const why = (err as Error).message.split('\n')[0];
    throw new LionctrError('LIONCTR_UNAVAILABLE', `serve.tower onnx: onnxruntime cannot score the tower: ${why}`);
  }
}
