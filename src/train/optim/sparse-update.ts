/**
 * One sparse optimizer step per embedding table, chosen once when the TrainStep is built
 * (optim-setup.ts; as Vowpal Wabbit's `ftrl_setup` picks its learn function): each object
 * owns its table's optimizer state and scratch, and the train step calls apply() on every
 * table without branching on the optimizer or the kernel. Here the JS ones: Lion
 * (sparse-lion.ts) and AdamW (adam.ts, for comparison); the WebAssembly one and its
 * fall-back to JS are in wasm/wasm-update.ts.
 */
import type { EmbeddingTable } from '../../model/embedding-table.ts';
import { sparseAdamStep, type AdamParams } from './adam.ts';
import type { BatchGrads } from './batch-grads.ts';
import { RowGradients } from './row-gradients.ts';
import { sparseLionStep, type SparseLionGroup } from './sparse-lion.ts';
import type { LrFunction } from './schedule.ts';

/** One table's sparse step (its optimizer, kernel and state fixed when made). */
export interface SparseUpdate {
  /**
   * Updates the table's rows that the batch touches (duplicate ids summed first).
   * @param step the global step (0-based), stored as the rows' lastStep.
   */
  apply(g: BatchGrads, step: number): void;
}

/** Where a table's gradients are in a batch: the table, its slot index f and first column of gx. */
export interface TableSlot {
  table: EmbeddingTable;
  f: number;
  col: number;
}

/** Sparse Lion in JS (RowGradients + sparseLionStep), either momentum dtype, every mode and schedule. */
export class JsLionUpdate implements SparseUpdate {
  private readonly rg: RowGradients;
  private readonly constantLr: boolean;
  /** @param lrAt the schedule; its sums are cached per function, so pass the same one every step. */
  constructor(
    private readonly at: TableSlot,
    private readonly group: SparseLionGroup,
    private readonly lrAt: LrFunction,
  ) {
    this.rg = new RowGradients(at.table.width);
    this.constantLr = lrAt.constantFrom === 0;
  }

  apply(g: BatchGrads, step: number): void {
    const { table: t, f, col } = this.at,
      rg = this.rg;
    rg.accumulate(g, f, col, t.capacity);
    sparseLionStep(t.rows, rg.rowIds, rg.n, rg.grads, this.group, step, this.lrAt, this.constantLr);
  }
}

/**
 * Lazy sparse AdamW in JS (comparison only; float32 momentum): the first moment in the
 * rows' momentum, the second in a [capacity, W] array of its own that grows with the table.
 */
export class AdamWUpdate implements SparseUpdate {
  private readonly rg: RowGradients;
  /** [capacity, W] second moments. */
  private second = new Float32Array(0);
  constructor(
    private readonly at: TableSlot,
    private readonly emb: AdamParams,
    private readonly lin: AdamParams,
    private readonly lrAt: LrFunction,
  ) {
    this.rg = new RowGradients(at.table.width);
  }

  /** @throws LionctrError LIONCTR_INTERNAL for bfloat16 momentum (sparseAdamStep). */
  apply(g: BatchGrads, step: number): void {
    const { table: t, f, col } = this.at,
      rg = this.rg;
    rg.accumulate(g, f, col, t.capacity);
    if (this.second.length < t.capacity * t.width) {
      const v = new Float32Array(t.capacity * t.width);
      v.set(this.second);
      this.second = v;
    }
    sparseAdamStep(t.rows, this.second, rg.rowIds, rg.n, rg.grads, this.emb, this.lin, step + 1, this.lrAt(step));
  }
}
