/**
 * What the model consumes: one mini-batch of B examples, F embedding slots, N numeric slots.
 * All arrays are example-major ([B, F] means index b * F + f).
 * @module
 */

/** One mini-batch of B examples as the model consumes it (shapes below; example-major). */
export interface FeatureBatch {
  /** B, examples in the batch. */
  size: number;
  /** [B] float32 labels, 0 or 1. */
  labels: Float32Array;
  /** [B] float32 example weights (1 unless the source says otherwise). */
  weights: Float32Array;
  /** [B, N] float32 dense numeric inputs (numericDense of each numeric slot). */
  dense: Float32Array;
  /** [B, F] high 32 bits of the feature id of each embedding slot. */
  idHi: Uint32Array;
  /** [B, F] low 32 bits of the feature id of each embedding slot. */
  idLo: Uint32Array;
  /** [B] event time in ms since epoch, NaN where unknown. */
  eventTimeMs: Float64Array;
  /** [B] source partition of each example (0 for files). */
  partitions: Int32Array;
  /** [B] source offset (file line, Kafka offset, synthetic index) of each example. */
  offsets: Float64Array;
  /** [B] true click probability, synthetic source only. */
  bayesP?: Float64Array;
}

/**
 * Examples [start, end) of a batch as views (no copy): every typed array is cut by its
 * per-example width (length / size).
 * @throws RangeError when the range is outside [0, size].
 */
export function sliceBatch<T extends { size: number }>(batch: T, start: number, end: number): T {
  if (!(start >= 0 && start <= end && end <= batch.size))
    throw new RangeError(`slice [${start}, ${end}) outside a batch of ${batch.size}`);
  const out: Record<string, unknown> = { ...batch, size: end - start };
  for (const [k, v] of Object.entries(batch)) {
    if (ArrayBuffer.isView(v) && batch.size > 0) {
      const per = (v as unknown as { length: number }).length / batch.size;
      out[k] = (v as unknown as Float32Array).subarray(start * per, end * per);
    }
  }
  return out as T;
}
