/** The batch gradients that every sparse step reads (one shape for the JS and wasm kernels). @module */

/**
 * The gradients of one batch that the sparse steps read: one object per TrainStep, its
 * fields set anew each step (views, valid during that step).
 */
export interface BatchGrads {
  /** [B, F] row of each (example, slot). */
  rowIdx: Int32Array;
  /** Examples. */
  B: number;
  /** Slots per example. */
  F: number;
  /** [B, I] float32 gradient of the tower input (each slot's D columns at its column offset). */
  gx: Float32Array;
  /** Tower input width. */
  I: number;
  /** [B] float32 dLoss/dlogit, the gradient of every linear weight (row column 0). */
  dlogit: Float32Array;
}
