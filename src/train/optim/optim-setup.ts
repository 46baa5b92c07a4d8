/**
 * Builds a TrainStep's optimizer once, from its settings (as Vowpal Wabbit's `ftrl_setup`
 * picks the learn function at setup, never per example): the dense chain
 *   Lion:  clipByGlobalNorm (when set) -> DenseLion -> scaleByLearningRate (lr x schedule)
 *   AdamW: DenseAdam -> scaleByLearningRate   (comparison only; no clipping, as before)
 * and one sparse step object per table: AdamW (JS), Lion on the JS kernel, or Lion on the
 * WebAssembly SIMD kernel with its fall-back to JS (wasm/wasm-update.ts). The wasm kernel
 * runs a table when asked for (the default), compiled by this runtime, and covering the
 * table's mode under the schedule (wasmKernelCovers()).
 */
import type { CtrModel } from '../../model/ctr-model.ts';
import { DenseAdam, type AdamParams } from './adam.ts';
import { clipByGlobalNorm, DenseChain, scaleByLearningRate, type DenseTransform } from './dense-chain.ts';
import { DenseLion } from './dense-lion.ts';
import type { LionParams } from './lion-config.ts';
import type { OptimConfig } from './optim-config.ts';
import { CONSTANT_LR, lrFunction, type LrSchedule } from './schedule.ts';
import type { SparseLionGroup } from './sparse-lion.ts';
import { AdamWUpdate, JsLionUpdate, type SparseUpdate, type TableSlot } from './sparse-update.ts';
import { wasmKernelCovers } from './wasm/catch-up-tables.ts';
import { kernelModule } from './wasm/kernel-module.ts';
import { WasmFallback, WasmLionUpdate, type FallbackLog } from './wasm/wasm-update.ts';
import { wasmMemoryRefusal } from './wasm/wasm-memory.ts';

/** A train step's optimizer, made by setupOptimizer(). */
export interface Optimizer {
  /** The tower's chain (its vars are the tower's; the last one is the global bias). */
  dense: DenseChain;
  /** The tower's Lion link (its momentum is checkpointed; made, unused, under AdamW too). */
  denseLion: DenseLion;
  /** The Lion group of each table, in model order (`tables` overrides applied). */
  sparseGroups: SparseLionGroup[];
  /** The sparse step of each table, in model order. */
  sparse: SparseUpdate[];
  schedule: LrSchedule;
  /** Which kernel runs the sparse steps and why, for the start-up log. */
  kernelNote: string;
}

/**
 * Makes the optimizer of a model from its settings.
 * @param note called with a line when a table falls back from the wasm kernel to the JS one.
 */
export function setupOptimizer(model: CtrModel, optim: OptimConfig, note: (msg: string) => void): Optimizer {
  // the tower's output bias is the model's global bias, with its own settings
  const vars = model.tower.vars;
  const towerParams = vars.map((_, i) => (i === vars.length - 1 ? (optim.bias ?? optim.linear) : optim.dense));
  const denseLion = new DenseLion(vars, towerParams);
  const sparseGroups: SparseLionGroup[] = model.tables.map((t) => {
    const { mode, ...over } = optim.tables?.[t.slot] ?? {};
    const embedding = { ...optim.embedding, ...over };
    return { embedding, linear: optim.linear, mode: mode ?? optim.sparseMode ?? 'lazy' };
  });
  const schedule = optim.schedule ?? CONSTANT_LR;
  const lrAt = lrFunction(schedule);
  const lr = scaleByLearningRate(
    towerParams.map((p) => p.lr),
    lrAt,
  );
  const slots: TableSlot[] = model.tables.map((table, f) => ({ table, f, col: model.columnOffset(f) }));

  if (optim.adam) {
    const ap = (p: LionParams): AdamParams => ({ ...p, eps: 1e-8 });
    const emb = ap(optim.embedding),
      lin = ap(optim.linear);
    return {
      dense: new DenseChain(vars, [new DenseAdam(vars, towerParams.map(ap)), lr]),
      denseLion,
      sparseGroups,
      schedule,
      sparse: slots.map((at) => new AdamWUpdate(at, emb, lin, lrAt)),
      kernelNote: 'sparse step: AdamW (JS) for comparison',
    };
  }

  const links: DenseTransform[] = (optim.clipGlobalNorm ?? 0) > 0 ? [clipByGlobalNorm(optim.clipGlobalNorm!)] : [];
  const dense = new DenseChain(vars, [...links, denseLion, lr]);
  const want = optim.sparseKernel ?? 'wasm';
  const wasm = want === 'wasm' && kernelModule() !== null;
  const log: FallbackLog = { note, said: new Set() };
  const sparse = slots.map((at, f): SparseUpdate => {
    const group = sparseGroups[f],
      js = new JsLionUpdate(at, group, lrAt);
    if (!wasm || !wasmKernelCovers(group, lrAt)) return js;
    return new WasmFallback(new WasmLionUpdate(at, group, lrAt), js, at.table.slot, log);
  });
  const uncovered = sparseGroups.filter((g) => !wasmKernelCovers(g, lrAt)).length;
  const refusal = wasm ? wasmMemoryRefusal() : null;
  const kernelNote =
    want === 'js'
      ? 'sparse step kernel: js (optim.sparseKernel=js)'
      : !wasm
        ? 'sparse step kernel: js (this runtime cannot compile the WebAssembly SIMD kernel)'
        : refusal
          ? `sparse step kernel: js, although optim.sparseKernel=wasm: ${refusal}`
          : uncovered > 0
            ? `sparse step kernel: wasm (WebAssembly SIMD), js for ${uncovered} of ${model.tables.length}` +
              ' tables (decayed/exact under an lr schedule that never turns constant)'
            : 'sparse step kernel: wasm (WebAssembly SIMD)';
  return { dense, denseLion, sparseGroups, sparse, schedule, kernelNote };
}
