/**
 * The host side of the WebAssembly SIMD sparse Lion kernel: the per-table `WasmSparseLion`
 * that stages a batch into the table's memory, sets the step's parameters and calls the
 * kernel. Module loading: kernel-module.ts; scratch layout: kernel-scratch.ts; catch-up
 * tables: catch-up-tables.ts.
 */
import { LionctrError } from '../../../errors.ts';
import { copyColumns, copyRun } from '../../../model/float-runs.ts';
import type { RowStore } from '../../../model/row-store.ts';
import type { LionParams } from '../lion-config.ts';
import { scheduledCatchUp } from '../lion-rule.ts';
import type { BatchGrads } from '../batch-grads.ts';
import type { SparseLionGroup } from '../sparse-lion.ts';
import type { LrFunction } from '../schedule.ts';
import { fillCatchUpTable } from './catch-up-tables.ts';
import { type KernelExports, kernelModule } from './kernel-module.ts';
import { KernelScratch } from './kernel-scratch.ts';
import { useWasmMemory } from './wasm-memory.ts';

/**
 * The WebAssembly SIMD sparse Lion kernel (source: kernel/sparse-lion.ts, AssemblyScript;
 * binary: sparse-lion.wasm). One instance per table chunk, over the chunk's own memory
 * (RowStore chunk c with `memory`; it sees chunk-local row indices r & chunkMask), doing
 * in 4-lane float32 what RowGradients.accumulate + sparseLionStep do in JS: dedupe +
 * segment-sum of a slot's gradients, then one Lion step (with the lazy, decayed or exact
 * catch-up) on the touched rows. The catch-up of idle steps in the lr
 * schedule's constant tail comes from tables of the closed form; idle ranges that begin
 * before the tail ask the host (ScheduleSums, rare once the schedule is flat); both come
 * from lion-rule.ts, the JS kernel's source of the catch-up. Same formulas as
 * sparse-lion.ts (Chen et al. 2023, Algorithm 2); results differ from the JS kernel by
 * float32 rounding (the JS kernel computes in float64 and rounds on store).
 *
 * The scratch (parameters, catch-up tables, the staged batch and its row set) lies after the
 * rows in the same memory; kernel-scratch.ts gives its layout.
 */
export class WasmSparseLion {
  /** The memory this instance is bound to (rows.chunks[c].memory when it was made). */
  readonly memory: WebAssembly.Memory;
  /** Unique rows of the last step. */
  n = 0;
  private readonly k: KernelExports;
  /** Examples staged (-1: none yet). */
  private B = -1;
  /** Where the scratch lies and the catch-up tables' contents. */
  private readonly lay: KernelScratch;

  /**
   * Moves chunk c of the rows into a WebAssembly memory (wasm-memory.ts, useWasmMemory) and
   * binds to it.
   * @throws LionctrError LIONCTR_INTERNAL when this runtime lacks WebAssembly SIMD, or the rows
   *   cannot have a memory (the reason): callers check kernelModule() and useWasmMemory() first.
   */
  constructor(
    readonly rows: RowStore,
    readonly c = 0,
  ) {
    const mod = kernelModule();
    if (!mod) {
      throw new LionctrError(
        'LIONCTR_INTERNAL',
        'WasmSparseLion: this runtime cannot compile the WebAssembly SIMD kernel',
      );
    }
    const why = useWasmMemory(rows, c),
      memory = rows.chunks[c].memory;
    if (why || !memory) {
      throw new LionctrError('LIONCTR_INTERNAL', `WasmSparseLion: the table cannot have a WebAssembly memory: ${why}`);
    }
    this.memory = memory;
    this.lay = new KernelScratch(rows, c);
    this.k = new WebAssembly.Instance(mod, {
      env: {
        memory,
        pow: Math.pow,
        head: (which: number, first: number, k: number) => this.head(which, first, k),
      },
    }).exports as unknown as KernelExports;
  }

  /** The group and schedule of the run in progress (for head()). */
  private current: { group: SparseLionGroup; lrAt: LrFunction; exact: boolean } | null = null;

  /** The kernel's hostHead: catch-up factors of an idle range that begins before the schedule's tail. */
  private head(which: number, first: number, k: number): void {
    const c = this.current!,
      p = which === 0 ? (c.group.linear ?? c.group.embedding) : c.group.embedding;
    const f = scheduledCatchUp(p, first, k, c.lrAt);
    const out = new Float32Array(this.memory.buffer, this.lay.par + 160, 4);
    out[0] = f[0];
    out[1] = f[1];
    out[2] = c.exact && p.beta1 > 0 ? f[2] : 0;
    out[3] = 0;
  }

  /**
   * Dedupe + segment-sum + one sparse Lion step for slot f of a batch: stage() then run().
   * @param g      the batch's rows [B, F], tower-input gradient [B, I] and dLoss/dlogit [B].
   * @param f      this table's slot index (column f of g.rowIdx).
   * @param col    this slot's first column in g.gx (its D = W - 1 columns follow).
   * @param step   global step (stored as the rows' lastStep).
   * @param lrAt   lr multiplier of a step (the schedule; default constant 1). Keep it the
   *               same function from step to step (its ScheduleSums are cached per function).
   * @returns false (nothing done) when the scratch does not fit in the 4 GiB memory.
   * @throws LionctrError LIONCTR_INTERNAL when a catch-up mode runs under a schedule without a
   *   constant tail (see wasmKernelCovers()).
   */
  step(g: BatchGrads, f: number, col: number, group: SparseLionGroup, step: number, lrAt: LrFunction = ONE): boolean {
    if (!this.stage(g, f, col, (group.mode ?? 'lazy') !== 'lazy')) return false;
    this.run(group, step, lrAt);
    return true;
  }

  /**
   * Copies slot f's rows [B] i32, dLoss/dlogit [B] f32 and gradient columns [B, D] f32 of a
   * batch into the table's memory (arguments as step()); `catchUp` reserves the catch-up
   * tables. Returns false when the scratch does not fit in the 4 GiB memory.
   */
  stage(batch: BatchGrads, f: number, col: number, catchUp: boolean): boolean {
    const { rowIdx, B, F, gx, I, dlogit } = batch;
    const D = this.rows.width - 1;
    if (this.rows.chunks.length > 1) return this.stageAdmitted(batch, f, col, catchUp);
    for (let b = 0; b < B; b++) if (rowIdx[b * F + f] < 0) return this.stageAdmitted(batch, f, col, catchUp);
    if (!this.lay.layout(B, catchUp)) return false;
    const buf = this.memory.buffer,
      L = this.lay;
    const idx = new Int32Array(buf, L.idx, B);
    if (F === 1) idx.set(rowIdx.subarray(0, B));
    else for (let b = 0; b < B; b++) idx[b] = rowIdx[b * F + f];
    new Float32Array(buf, L.dl, B).set(dlogit.subarray(0, B));
    const g = new Float32Array(buf, L.gx, B * D);
    if (I === D && col === 0) g.set(gx.subarray(0, B * D));
    else copyColumns(g, 0, D, gx, col, I, B, D);
    this.B = B;
    return true;
  }

  /**
   * stage() for a batch where some of slot f's rows are -1 (ids the admission gate gave no
   * row, src/model/admission.ts) or lie in other chunks: stages only the examples that have a
   * row in this chunk (as r & chunkMask), in batch order, so the kernel sums and updates the
   * same rows, in the same order of additions, as the JS kernel, which skips -1.
   */
  private stageAdmitted(batch: BatchGrads, f: number, col: number, catchUp: boolean): boolean {
    const { rowIdx, B, F, gx, I, dlogit } = batch;
    const D = this.rows.width - 1,
      sh = this.rows.shift,
      cm = this.rows.chunkMask,
      c = this.c;
    let n = 0;
    for (let b = 0; b < B; b++) {
      const r = rowIdx[b * F + f];
      if (r >= 0 && r >>> sh === c) n++;
    }
    if (!this.lay.layout(n, catchUp)) return false;
    const buf = this.memory.buffer,
      L = this.lay;
    const idx = new Int32Array(buf, L.idx, n),
      dl = new Float32Array(buf, L.dl, n),
      g = new Float32Array(buf, L.gx, n * D);
    let i = 0;
    for (let b = 0; b < B; b++) {
      const r = rowIdx[b * F + f];
      if (r < 0 || r >>> sh !== c) continue;
      idx[i] = r & cm;
      dl[i] = dlogit[b];
      copyRun(g, i * D, gx, b * I + col, D);
      i++;
    }
    this.B = n;
    return true;
  }

  /**
   * Places the scratch for the n unique rows and summed gradients of a step deduped elsewhere
   * (a table of several chunks: batch-kernel.ts) and returns its views ([n] chunk-local rows,
   * [n, W] sums) for the caller to fill before update(); null when it does not fit in the 4 GiB
   * memory.
   */
  placeSums(n: number, catchUp: boolean): { rowIds: Int32Array; grads: Float32Array } | null {
    if (!this.lay.layout(n, catchUp, true)) return null;
    const buf = this.memory.buffer,
      L = this.lay;
    this.B = -1;
    this.n = n;
    return { rowIds: new Int32Array(buf, L.rowIds, n), grads: new Float32Array(buf, L.grads, n * this.rows.width) };
  }

  /**
   * Dedupe + segment-sum + the Lion step on the staged batch (see step()).
   * @throws LionctrError LIONCTR_INTERNAL when nothing is staged, a catch-up mode was not
   *   staged for, or a catch-up mode runs under a schedule without a constant tail.
   */
  run(group: SparseLionGroup, step: number, lrAt: LrFunction = ONE): void {
    const D = this.rows.width - 1,
      mode = group.mode ?? 'lazy',
      L = this.lay,
      B = this.B;
    if (B < 0 || (mode !== 'lazy' && !L.hasTables)) {
      throw new LionctrError(
        'LIONCTR_INTERNAL',
        'WasmSparseLion.run: stage() the batch first (with catchUp for decayed/exact)',
      );
    }
    if (mode !== 'lazy' && !Number.isFinite(lrAt.constantFrom ?? Infinity)) {
      throw new LionctrError(
        'LIONCTR_INTERNAL',
        'WasmSparseLion.run: a decayed/exact catch-up needs an lr schedule with a constant tail',
      );
    }
    this.n = this.k.accumulate(L.idx, B, L.gx, D, L.dl, L.hash, L.hbits, L.pos, L.rowIds, L.grads);
    this.update(group, step, lrAt);
  }

  /**
   * The Lion step on the n unique rows and sums in the scratch (run()'s, or placeSums()'s,
   * filled by the caller). Arguments as step().
   * @throws LionctrError LIONCTR_INTERNAL as run().
   */
  update(group: SparseLionGroup, step: number, lrAt: LrFunction = ONE): void {
    const rows = this.rows,
      W = rows.width,
      mode = group.mode ?? 'lazy',
      L = this.lay;
    if (mode !== 'lazy' && !L.hasTables) {
      throw new LionctrError(
        'LIONCTR_INTERNAL',
        'WasmSparseLion.update: place the scratch with catchUp for decayed/exact',
      );
    }
    const tailFrom = lrAt.constantFrom ?? Infinity;
    if (mode !== 'lazy' && !Number.isFinite(tailFrom)) {
      throw new LionctrError(
        'LIONCTR_INTERNAL',
        'WasmSparseLion.update: a decayed/exact catch-up needs an lr schedule with a constant tail',
      );
    }
    const mult = lrAt(step),
      catchUpMult = mode === 'lazy' ? 1 : lrAt(tailFrom);
    this.current = { group, lrAt, exact: mode === 'exact' };
    const buf = this.memory.buffer;
    const e = group.embedding,
      l = group.linear ?? group.embedding;
    const par = new Float64Array(buf, L.par, 19);
    par[18] = Math.min(tailFrom, 2 ** 31 - 1);
    const put = (o: number, p: LionParams) => {
      const lr = p.lr * mult,
        lrC = p.lr * catchUpMult;
      par[o] = lr;
      par[o + 1] = p.beta1;
      par[o + 2] = p.beta2;
      par[o + 3] = 1 - lr * p.weightDecay;
      const c = 8 + (o / 4) * 5;
      par[c] = 1 - lrC * p.weightDecay;
      par[c + 1] = lrC;
      par[c + 2] = p.weightDecay;
      par[c + 3] = p.beta1;
      par[c + 4] = p.beta2;
    };
    put(0, l);
    put(4, e);
    if (mode !== 'lazy') {
      fillCatchUpTable(this.memory, L.tableKeys, 0, L.tabL, l, catchUpMult, mode);
      fillCatchUpTable(this.memory, L.tableKeys, 1, L.tabE, e, catchUpMult, mode);
    }
    this.k.lionStep(
      L.rowIds,
      this.n,
      L.grads,
      W,
      rows.stride * 4,
      rows.momOff * 4,
      rows.metaOff * 4,
      rows.dtype === 'bfloat16' ? 1 : 0,
      step,
      mode === 'lazy' ? 0 : mode === 'decayed' ? 1 : 2,
      L.par,
      L.tabL,
      L.tabE,
    );
  }

  /** [n] unique rows of the last step, chunk-local (a view into the memory: copy to keep). */
  get rowIds(): Int32Array {
    return new Int32Array(this.memory.buffer, this.lay.rowIds, this.n);
  }

  /** [n, W] float32 summed gradients of the last step's unique rows, column 0 the linear one (a view: copy to keep). */
  get sums(): Float32Array {
    return new Float32Array(this.memory.buffer, this.lay.grads, this.n * this.rows.width);
  }
}

/** Constant multiplier 1 (no schedule). */
const ONE: LrFunction = Object.assign(() => 1, { constantFrom: 0 });
