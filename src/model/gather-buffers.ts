/**
 * The arrays CtrModel.gather fills, kept by a caller that gathers batch after batch (the train
 * step) so that a batch allocates nothing: at batch 4096 a fresh tower input is 10 MB, and a
 * fresh ArrayBuffer that size costs page faults on every first write and, as external memory,
 * drives V8 to full collections. The arrays grow to the largest batch seen and never shrink.
 * @module
 */

/** Reused rowIdx [B, F], x [B, I] and wide [B] arrays (views of B rows of the held ones). */
export class GatherBuffers {
  private rowIdx = new Int32Array(0);
  private x = new Float32Array(0);
  private wide = new Float32Array(0);

  /**
   * Views of the first B rows of each array (their contents: what the last batch left); the
   * views of a previous call are overwritten by the next gather into them.
   */
  take(B: number, F: number, I: number): { rowIdx: Int32Array; x: Float32Array; wide: Float32Array } {
    if (this.wide.length < B || this.rowIdx.length < B * F || this.x.length < B * I) {
      this.rowIdx = new Int32Array(B * F);
      this.x = new Float32Array(B * I);
      this.wide = new Float32Array(B);
    }
    return { rowIdx: this.rowIdx.subarray(0, B * F), x: this.x.subarray(0, B * I), wide: this.wide.subarray(0, B) };
  }

  /** Bytes held. */
  get bytes(): number {
    return this.rowIdx.byteLength + this.x.byteLength + this.wide.byteLength;
  }
}
