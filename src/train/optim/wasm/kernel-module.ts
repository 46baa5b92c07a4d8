/**
 * Loading of the WebAssembly SIMD sparse Lion kernel (binary: sparse-lion.wasm, built from
 * kernel/sparse-lion.ts by `npm run build:wasm`) and the exports the host calls
 * (sparse-kernel.ts). The module is compiled once per process; each table instantiates it
 * over its own memory.
 */
import { readFileSync } from 'node:fs';

/**
 * The kernel instance's exports. Every pointer is a byte offset into the table's memory
 * (layout: kernel-scratch.ts).
 *
 * accumulate: dedupe + segment-sum of a batch of B examples: row indices at `idx` [B] i32,
 * gradients at `gx` [B, D] f32, dLoss/dlogit at `dl` [B] f32; the batch's row set at `hash`
 * [2^hbits, 2] i32 (2^hbits >= 2B; cleared by the kernel); writes each example's unique-row
 * position at `pos` [B] i32, the unique rows at `rowIds` [n] i32 and their summed gradients
 * at `grads` [n, D + 1] f32 (column 0 the linear one). Returns n, the number of unique rows.
 *
 * group: the n unique rows at `rowIds` (table rows) and sums at `grads` [n, W] grouped by chunk
 * (r >>> shift), first-seen order within a chunk, into `outIds` (r & cmask) and `outGrads`;
 * `ends` [C] i32 where each chunk's part ends.
 *
 * lionStep: one Lion step on the n unique rows at `rowIds` with their sums at `grads`
 * [n, W] f32; rows of `stride` bytes, momentum at byte `momOff`, lastStep at byte
 * `metaOff` (the update count: the i32 after it, or with `bf` 1 (bfloat16 rows) a saturating
 * u16 after the W momenta); `mode` 0 lazy, 1 decayed, 2 exact;
 * parameters at `par` [19] f64; catch-up tables at `tabL` and `tabE` [65536, 4] f32.
 */
export interface KernelExports {
  accumulate(
    idx: number,
    B: number,
    gx: number,
    D: number,
    dl: number,
    hash: number,
    hbits: number,
    pos: number,
    rowIds: number,
    grads: number,
  ): number;
  group(
    rowIds: number,
    n: number,
    grads: number,
    W: number,
    shift: number,
    cmask: number,
    C: number,
    ends: number,
    outIds: number,
    outGrads: number,
  ): void;
  lionStep(
    rowIds: number,
    n: number,
    grads: number,
    W: number,
    stride: number,
    momOff: number,
    metaOff: number,
    bf: number,
    step: number,
    mode: number,
    par: number,
    tabL: number,
    tabE: number,
  ): void;
}

let compiled: WebAssembly.Module | null | undefined;

/**
 * The compiled kernel module, or null when this runtime cannot compile it (no WebAssembly SIMD).
 * Compiled on the first call, then cached; never throws (a missing or unreadable binary is null too).
 */
export function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(readFileSync(new URL('./sparse-lion.wasm', import.meta.url)));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}
