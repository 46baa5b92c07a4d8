/**
 * Row storage of one embedding table, one contiguous block per row so that a sparse
 * optimizer step touches one place in memory per row (random row access is bound by
 * memory latency, not bandwidth):
 *
 *   float32 momentum:  [ w_0 .. w_{W-1} | m_0 .. m_{W-1} | lastStep | updates ]   stride 2W + 2 words
 *   bfloat16 momentum: [ w_0 .. w_{W-1} | m_0 .. m_{W-1} as W halves | lastStep | updates ]
 *                                                                  stride W + ceil(W/2) + 2 words
 *
 * One ArrayBuffer, three views: `data` (float32 words), `words` (int32 words, for
 * lastStep and updates) and `half` (uint16, for bf16 momentum). Row r starts at word
 * r * stride. lastStep = the last step whose update the row has had; updates = how many
 * optimizer updates it has had.
 */
export class RowStore {
  /** W, floats of weights per row. */
  readonly width: number;
  readonly dtype: 'float32' | 'bfloat16';
  /** Words (4 bytes) per row block. */
  readonly stride: number;
  /** Word offset of the momentum inside a block (float32 index; for bf16, half index = 2 * (block + momOff) + j). */
  readonly momOff: number;
  /** Word offset of lastStep (updates is the next word). */
  readonly metaOff: number;
  data: Float32Array;
  words: Int32Array;
  half: Uint16Array;
  capacity: number;

  constructor(width: number, capacity: number, dtype: 'float32' | 'bfloat16' = 'float32') {
    this.width = width;
    this.dtype = dtype;
    this.momOff = width;
    this.metaOff = dtype === 'float32' ? 2 * width : width + Math.ceil(width / 2);
    this.stride = this.metaOff + 2;
    this.capacity = 0;
    this.data = new Float32Array(0); this.words = new Int32Array(0); this.half = new Uint16Array(0);
    this.grow(capacity);
  }

  /** Reallocates to `capacity` rows, keeping the first min(old, new) rows. */
  grow(capacity: number): void {
    const buf = new ArrayBuffer(capacity * this.stride * 4);
    const data = new Float32Array(buf);
    data.set(this.data.subarray(0, Math.min(this.data.length, data.length)));
    this.data = data;
    this.words = new Int32Array(buf);
    this.half = new Uint16Array(buf);
    this.capacity = capacity;
  }

  /** Bytes allocated. */
  get bytes(): number { return this.data.byteLength; }

  /** Copies row r's W weights into out (or a new array). */
  getWeights(r: number, out = new Float32Array(this.width)): Float32Array {
    out.set(this.data.subarray(r * this.stride, r * this.stride + this.width));
    return out;
  }

  /** Sets row r's W weights. */
  setWeights(r: number, values: ArrayLike<number>): void {
    this.data.set(values, r * this.stride);
  }

  /** Sets row r's last updated step. */
  setLastStep(r: number, s: number): void { this.words[r * this.stride + this.metaOff] = s; }

  /** [n, W] weights of rows 0..n-1, packed (for exports). */
  packedWeights(n: number): Float32Array {
    const out = new Float32Array(n * this.width);
    for (let r = 0; r < n; r++) out.set(this.data.subarray(r * this.stride, r * this.stride + this.width), r * this.width);
    return out;
  }
}
