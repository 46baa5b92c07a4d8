/**
 * The optimizer settings a TrainStep is built from (config `optim.*`, made by
 * src/cli/train-session.ts): Lion settings per group, the lr schedule, clipping, per-slot
 * overrides and the sparse kernel. optim-setup.ts turns them into the optimizer objects.
 */
import type { LionParams } from './lion-config.ts';
import type { LrSchedule } from './schedule.ts';
import type { SparseMode } from './sparse-lion.ts';

/** Optimizer settings of the two groups (config `optim.*`). */
export interface OptimConfig {
  dense: LionParams;
  embedding: LionParams;
  /** Settings of the linear (wide) weights, column 0 of every row. */
  linear: LionParams;
  /** Settings of the global bias (the tower's output bias); defaults to `linear`. */
  bias?: LionParams;
  /** lr schedule applied to every group (default constant). */
  schedule?: LrSchedule;
  /** Clip the dense gradients to this global L2 norm (0 = off). */
  clipGlobalNorm?: number;
  /** Per-slot overrides of the embedding group (lr, betas, weight decay) and the sparse mode. */
  tables?: Record<string, Partial<LionParams> & { mode?: SparseMode }>;
  /** Catch-up of idle embedding rows (see sparse-lion.ts); default lazy. */
  sparseMode?: SparseMode;
  /**
   * Sparse step kernel: `wasm` (default; WebAssembly SIMD, wasm/sparse-kernel.ts) or `js`
   * (sparse-lion.ts). The JS kernel also runs where the wasm one cannot: no WebAssembly
   * SIMD, a table over 4 GiB, or a decayed/exact catch-up under a non-constant lr schedule.
   */
  sparseKernel?: 'wasm' | 'js';
  /**
   * Use AdamW instead of Lion, for comparisons only (same groups, schedule, lazy rows):
   * the groups' lr / betas / weight decay are taken as AdamW's, eps 1e-8.
   */
  adam?: boolean;
}
