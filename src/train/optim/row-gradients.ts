/** Per-batch gradient sums of the touched embedding rows, duplicates summed. @module */

import { copyRun } from '../../model/float-runs.ts';
import type { BatchGrads } from './batch-grads.ts';

/**
 * Dedupe + segment-sum of per-example row gradients of one table: the gradients of
 * duplicate ids in a batch are summed before the sparse step (sign() is non-linear,
 * DESIGN.md "Lion, sparse-aware" step 1). O(B) with a generation-stamped position array
 * indexed by row (no hashing, no per-row allocation). Row index -1 (an id that the admission
 * gate gave no row) is skipped.
 */
export class RowGradients {
  /** [n] unique touched rows of the last accumulate. */
  rowIds: Int32Array;
  /** [n, W] summed gradients. */
  grads: Float32Array;
  /** Unique rows in the last batch. */
  n = 0;
  /** [capacity, 2]: generation stamp and position of each row, adjacent (one cache miss per id). */
  private mark: Int32Array = new Int32Array(0);
  private gen = 0;
  /** Sink of the prefetch loads (written so that the loads are not optimised away; never read). */
  touch = 0;

  constructor(
    readonly width: number,
    maxRows = 4096,
  ) {
    this.rowIds = new Int32Array(maxRows);
    this.grads = new Float32Array(maxRows * width);
  }

  /**
   * Sums the gradients of one slot over a batch.
   * @param g        the batch's rows [B, F], tower-input gradient [B, I] and dLoss/dlogit [B].
   * @param f        this slot's index (column f of g.rowIdx).
   * @param col      this slot's first column in g.gx (its D columns follow).
   * @param capacity the table's row capacity (sizes the scratch).
   */
  accumulate(batch: BatchGrads, f: number, col: number, capacity: number): void {
    const { rowIdx, B, F, gx, I, dlogit } = batch;
    const W = this.width,
      D = W - 1;
    if (this.mark.length < 2 * capacity) {
      this.mark = new Int32Array(2 * capacity);
      this.gen = 0;
    }
    if (this.rowIds.length < B) {
      this.rowIds = new Int32Array(B);
      this.grads = new Float32Array(B * W);
    }
    const gen = ++this.gen;
    let n = 0;
    const g = this.grads,
      mark = this.mark;
    for (let b = 0; b < B; b++) {
      // group prefetch of the marks (random reads into a [capacity, 2] array), see sparse-lion.ts
      if ((b & 31) === 0) {
        let t = 0;
        const e = Math.min(B, b + 32);
        for (let q = b; q < e; q++) {
          const r = rowIdx[q * F + f];
          if (r >= 0) t += mark[2 * r];
        }
        this.touch = t;
      }
      const r = rowIdx[b * F + f];
      if (r < 0) continue; // an id not admitted (src/model/admission.ts): no row, no update
      const xo = b * I + col;
      if (mark[2 * r] !== gen) {
        // first sighting in this batch: write, no need to zero first
        const p = n++;
        mark[2 * r] = gen;
        mark[2 * r + 1] = p;
        this.rowIds[p] = r;
        const go = p * W;
        g[go] = dlogit[b];
        copyRun(g, go + 1, gx, xo, D);
      } else {
        const go = mark[2 * r + 1] * W;
        g[go] += dlogit[b];
        for (let j = 0; j < D; j++) g[go + 1 + j] += gx[xo + j];
      }
    }
    this.n = n;
  }
}
