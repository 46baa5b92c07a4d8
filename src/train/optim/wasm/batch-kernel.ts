/**
 * The dedupe and segment-sum of one table's batch when its rows lie in several chunks: a
 * WebAssembly memory of the batch's own (no rows in it) where the whole batch is staged with
 * the table's row indices, summed per unique row (the kernel's accumulate, over a row set
 * sized by the batch) and grouped by chunk (the kernel's group); each touched chunk then gets
 * its part of the sums with two bulk copies and runs only the Lion step (WasmLionUpdate).
 *
 * Before, the examples were copied one by one, each into its row's chunk memory, and every
 * chunk deduped its part: at 10^7 rows (10 chunks), 200k ids a step, that staging loop took
 * about a third of the step (bench/sparse-step.ts), where one memory took bulk copies.
 * @module
 */
import { copyRun } from '../../../model/float-runs.ts';
import type { BatchGrads } from '../batch-grads.ts';
import { type KernelExports, kernelModule } from './kernel-module.ts';
import { align64, setBits } from './kernel-scratch.ts';
import { newWasmMemory } from './wasm-memory.ts';

/** A step's unique rows grouped by chunk (views into the batch memory: read before the next batch). */
export interface ChunkSums {
  /** [n] chunk-local rows, chunk by chunk. */
  ids: Int32Array;
  /** [n, W] their summed gradients (column 0 the linear one). */
  grads: Float32Array;
  /** [C] where chunk c's part ends (it begins at ends[c - 1], or 0). */
  ends: Int32Array;
}

/** The batch memory of one multi-chunk table and its kernel instance (see the module doc). */
export class BatchKernel {
  private readonly k: KernelExports;
  private idx = 0;
  private dl = 0;
  private gx = 0;
  private pos = 0;
  private hash = 0;
  private hbits = 4;
  private rowIds = 0;
  private grads = 0;
  private outIds = 0;
  private outGrads = 0;
  private ends = 0;
  /** Examples and chunks the layout holds. */
  private Bcap = -1;
  private Ccap = -1;

  private constructor(
    private readonly memory: WebAssembly.Memory,
    mod: WebAssembly.Module,
    /** W, floats per row. */
    private readonly W: number,
  ) {
    this.k = new WebAssembly.Instance(mod, {
      env: { memory, pow: Math.pow, head: () => {} }, // accumulate and group never call head
    }).exports as unknown as KernelExports;
  }

  /** A batch kernel for rows of W floats, or null when no kernel module or memory can be had. */
  static make(W: number): BatchKernel | null {
    const mod = kernelModule(),
      memory = mod ? newWasmMemory(1) : null;
    return mod && memory ? new BatchKernel(memory, mod, W) : null;
  }

  /** Places B examples and C chunks; false when the memory cannot grow to them. */
  private layout(B: number, C: number): boolean {
    if (B <= this.Bcap && C <= this.Ccap) return true;
    B = Math.max(B, this.Bcap);
    C = Math.max(C, this.Ccap);
    const a = align64,
      W = this.W;
    let o = 64; // the kernel reads the 4 bytes before gx (dl precedes it)
    const at = (bytes: number): number => {
      const p = o;
      o += a(bytes);
      return p;
    };
    this.idx = at(4 * B);
    this.dl = at(4 * B);
    this.gx = at(4 * B * (W - 1));
    this.pos = at(4 * B);
    this.hbits = setBits(B);
    this.hash = at(8 * 2 ** this.hbits);
    this.rowIds = at(4 * B);
    this.grads = at(4 * B * W);
    this.outIds = at(4 * B);
    this.outGrads = at(4 * B * W);
    this.ends = at(4 * C);
    const have = this.memory.buffer.byteLength;
    if (o > have) {
      try {
        this.memory.grow(Math.ceil((o - have) / 65536));
      } catch {
        return false;
      }
    }
    this.Bcap = B;
    this.Ccap = C;
    return true;
  }

  /**
   * Stages slot f's examples that have a row (rowIdx >= 0), in batch order, with their table
   * rows, dLoss/dlogit and gradient columns col..col+D-1 of g.gx, then sums them per unique row
   * and groups the rows by chunk (chunk r >>> shift of C). Null when the memory cannot grow.
   */
  sums(g: BatchGrads, f: number, col: number, shift: number, C: number): ChunkSums | null {
    const { rowIdx, B, F, gx, I, dlogit } = g,
      W = this.W,
      D = W - 1;
    if (!this.layout(B, C)) return null;
    const buf = this.memory.buffer,
      idx = new Int32Array(buf, this.idx, B),
      dl = new Float32Array(buf, this.dl, B),
      gs = new Float32Array(buf, this.gx, B * D);
    let n = 0;
    for (let b = 0; b < B; b++) if (rowIdx[b * F + f] >= 0) n++;
    if (n === B && F === 1 && I === D && col === 0) {
      // one slot, every example with a row: three bulk copies
      idx.set(rowIdx.subarray(0, B));
      dl.set(dlogit.subarray(0, B));
      gs.set(gx.subarray(0, B * D));
    } else {
      let i = 0;
      for (let b = 0; b < B; b++) {
        const r = rowIdx[b * F + f];
        if (r < 0) continue;
        idx[i] = r;
        dl[i] = dlogit[b];
        copyRun(gs, i * D, gx, b * I + col, D);
        i++;
      }
    }
    const k = this.k,
      u = k.accumulate(this.idx, n, this.gx, D, this.dl, this.hash, this.hbits, this.pos, this.rowIds, this.grads);
    k.group(this.rowIds, u, this.grads, W, shift, 2 ** shift - 1, C, this.ends, this.outIds, this.outGrads);
    return {
      ids: new Int32Array(buf, this.outIds, u),
      grads: new Float32Array(buf, this.outGrads, u * W),
      ends: new Int32Array(buf, this.ends, C),
    };
  }
}
