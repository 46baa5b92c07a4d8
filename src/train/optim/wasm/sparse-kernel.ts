import { readFileSync } from 'node:fs';
import { LionctrError } from '../../../errors.ts';
import type { RowStore } from '../../../model/row-store.ts';
import type { LionParams } from '../lion-config.ts';
import { constantCatchUp, scheduledCatchUp } from '../lion-rule.ts';
import type { SparseLionGroup, SparseMode } from '../sparse-lion.ts';
import type { LrFunction } from '../schedule.ts';
import { useWasmMemory } from './wasm-memory.ts';

/**
 * The WebAssembly SIMD sparse Lion kernel (source: kernel/sparse-lion.ts, AssemblyScript;
 * binary: sparse-lion.wasm). One instance per table, over the table's own memory (RowStore
 * with `memory`), doing in 4-lane float32 what RowGradients.accumulate + sparseLionStep
 * do in JS: dedupe + segment-sum of a slot's gradients, then one Lion step (with the lazy,
 * decayed or exact catch-up) on the touched rows. The catch-up of idle steps in the lr
 * schedule's constant tail comes from tables of the closed form; idle ranges that begin
 * before the tail ask the host (ScheduleSums, rare once the schedule is flat); both come
 * from lion-rule.ts, the JS kernel's source of the catch-up. Same formulas as
 * sparse-lion.ts (Chen et al. 2023, Algorithm 2); results differ from the JS kernel by
 * float32 rounding (the JS kernel computes in float64 and rounds on store).
 *
 * Scratch after the rows (from the rows' bytes rounded up to 64), 64-byte aligned pieces: marks
 * [capacity, 2] i32, parameters [19] f64 and the host's factors [4] f32, two catch-up
 * tables of [65536, 4] f32 (catch-up modes only), then the batch's row indices [B] i32,
 * dLoss/dlogit [B] f32, gradients [B, D] f32, each example's unique-row position [B] i32,
 * unique rows [B] i32 and summed gradients [B, W] f32.
 */
export class WasmSparseLion {
  /** The memory this instance is bound to (rows.memory when it was made). */
  readonly memory: WebAssembly.Memory;
  /** Unique rows of the last step. */
  n = 0;
  private readonly k: KernelExports;
  private gen = 0;
  /** Examples staged (-1: none yet). */
  private B = -1;
  /** Layout of the marks, parameters and tables (rows' scratch base, capacity, tables or not). */
  private fixedKey = '';
  private hasTables = false;
  /** Where the batch part of the scratch starts, and the batch size it holds. */
  private batchBase = 0;
  private Bcap = 0;
  private lay = { mark: 0, par: 0, tabL: 0, tabE: 0, idx: 0, dl: 0, gx: 0, pos: 0, rowIds: 0, grads: 0 };
  private tableKeys = ['', ''];

  /**
   * Moves the rows into a WebAssembly memory (wasm-memory.ts, useWasmMemory) and binds to it.
   * @throws LionctrError LIONCTR_INTERNAL when this runtime lacks WebAssembly SIMD, or the rows
   *   cannot have a memory (the reason): callers check kernelModule() and useWasmMemory() first.
   */
  constructor(readonly rows: RowStore) {
    const mod = kernelModule();
    if (!mod) {
      throw new LionctrError(
        'LIONCTR_INTERNAL',
        'WasmSparseLion: this runtime cannot compile the WebAssembly SIMD kernel',
      );
    }
    const why = useWasmMemory(rows);
    if (why || !rows.memory) {
      throw new LionctrError('LIONCTR_INTERNAL', `WasmSparseLion: the table cannot have a WebAssembly memory: ${why}`);
    }
    this.memory = rows.memory;
    this.k = new WebAssembly.Instance(mod, {
      env: {
        memory: rows.memory,
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
   * @param rowIdx [B, F] row per (example, slot); column f is this table's.
   * @param gx     [B, I] gradient of the tower input; this slot's D = W - 1 columns start at `col`.
   * @param dlogit [B] dLoss/dlogit (gradient of column 0, the linear weight).
   * @param step   global step (stored as the rows' lastStep).
   * @param lrAt   lr multiplier of a step (the schedule; default constant 1). Keep it the
   *               same function from step to step (its ScheduleSums are cached per function).
   * @returns false (nothing done) when the scratch does not fit in the 4 GiB memory.
   * @throws LionctrError LIONCTR_INTERNAL when a catch-up mode runs under a schedule without a
   *   constant tail (see wasmKernelCovers()).
   */
  step(
    rowIdx: Int32Array,
    B: number,
    F: number,
    f: number,
    gx: Float32Array,
    I: number,
    col: number,
    dlogit: Float32Array,
    group: SparseLionGroup,
    step: number,
    lrAt: LrFunction = ONE,
  ): boolean {
    if (!this.stage(rowIdx, B, F, f, gx, I, col, dlogit, (group.mode ?? 'lazy') !== 'lazy')) return false;
    this.run(group, step, lrAt);
    return true;
  }

  /**
   * Copies slot f's rows [B] i32, dLoss/dlogit [B] f32 and gradient columns [B, D] f32 of a
   * batch into the table's memory (arguments as step()); `catchUp` reserves the catch-up
   * tables. Returns false when the scratch does not fit in the 4 GiB memory.
   */
  stage(
    rowIdx: Int32Array,
    B: number,
    F: number,
    f: number,
    gx: Float32Array,
    I: number,
    col: number,
    dlogit: Float32Array,
    catchUp: boolean,
  ): boolean {
    const D = this.rows.width - 1;
    if (!this.layout(B, catchUp)) return false;
    const buf = this.memory.buffer,
      L = this.lay;
    const idx = new Int32Array(buf, L.idx, B);
    if (F === 1) idx.set(rowIdx.subarray(0, B));
    else for (let b = 0; b < B; b++) idx[b] = rowIdx[b * F + f];
    new Float32Array(buf, L.dl, B).set(dlogit.subarray(0, B));
    const g = new Float32Array(buf, L.gx, B * D);
    if (I === D && col === 0) g.set(gx.subarray(0, B * D));
    else
      for (let b = 0; b < B; b++) {
        const s = b * I + col,
          d = b * D;
        for (let j = 0; j < D; j++) g[d + j] = gx[s + j];
      }
    this.B = B;
    return true;
  }

  /**
   * Dedupe + segment-sum + the Lion step on the staged batch (see step()).
   * @throws LionctrError LIONCTR_INTERNAL when nothing is staged, a catch-up mode was not
   *   staged for, or a catch-up mode runs under a schedule without a constant tail.
   */
  run(group: SparseLionGroup, step: number, lrAt: LrFunction = ONE): void {
    const rows = this.rows,
      W = rows.width,
      D = W - 1,
      mode = group.mode ?? 'lazy',
      L = this.lay,
      B = this.B;
    if (B < 0 || (mode !== 'lazy' && !this.hasTables)) {
      throw new LionctrError(
        'LIONCTR_INTERNAL',
        'WasmSparseLion.run: stage() the batch first (with catchUp for decayed/exact)',
      );
    }
    const tailFrom = lrAt.constantFrom ?? Infinity;
    if (mode !== 'lazy' && !Number.isFinite(tailFrom)) {
      throw new LionctrError(
        'LIONCTR_INTERNAL',
        'WasmSparseLion.run: a decayed/exact catch-up needs an lr schedule with a constant tail',
      );
    }
    const mult = lrAt(step),
      catchUpMult = mode === 'lazy' ? 1 : lrAt(tailFrom);
    this.current = { group, lrAt, exact: mode === 'exact' };
    const buf = this.memory.buffer;
    if (++this.gen > 0x7ffffff0) {
      new Int32Array(buf, L.mark, 2 * rows.capacity).fill(0);
      this.gen = 1;
    }
    this.n = this.k.accumulate(L.idx, B, L.gx, D, L.dl, L.mark, this.gen, L.pos, L.rowIds, L.grads);
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
      this.fillTable(0, L.tabL, l, catchUpMult, mode);
      this.fillTable(1, L.tabE, e, catchUpMult, mode);
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

  /** [n] unique rows of the last step (a view into the memory: copy to keep). */
  get rowIds(): Int32Array {
    return new Int32Array(this.memory.buffer, this.lay.rowIds, this.n);
  }

  /** [n, W] float32 summed gradients of the last step's unique rows, column 0 the linear one (a view: copy to keep). */
  get sums(): Float32Array {
    return new Float32Array(this.memory.buffer, this.lay.grads, this.n * this.rows.width);
  }

  /**
   * Places the scratch for a batch of B; false when it does not fit. The marks, parameters
   * and tables move (and the marks are cleared) only when the rows grow or the tables are
   * first needed; the batch part grows to the largest batch seen, so batches of varying
   * size (Kafka's partial batches) cost no clearing.
   */
  private layout(B: number, tables: boolean): boolean {
    const a = (x: number) => Math.ceil(x / 64) * 64;
    const rows = this.rows,
      W = rows.width,
      cap = rows.capacity,
      base = a(rows.capacity * rows.stride * 4);
    const L = this.lay;
    const fixed = `${base}/${cap}/${tables || this.hasTables}`;
    if (fixed !== this.fixedKey) {
      let o = base;
      L.mark = o;
      o += a(8 * cap);
      L.par = o;
      o += a(19 * 8 + 16 + 16); // parameters, then the host's factors at +160
      this.hasTables ||= tables;
      L.tabL = o;
      L.tabE = o;
      if (this.hasTables) {
        L.tabE = o + TABLE_BYTES;
        o += 2 * TABLE_BYTES;
      }
      if (!rows.reserve(o)) return false;
      new Int32Array(this.memory.buffer, L.mark, 2 * cap).fill(0);
      this.gen = 0;
      this.tableKeys = ['', ''];
      this.fixedKey = fixed;
      this.batchBase = o;
      this.Bcap = 0;
    }
    if (B > this.Bcap) {
      let o = this.batchBase;
      L.idx = o;
      o += a(4 * B);
      L.dl = o;
      o += a(4 * B);
      L.gx = o;
      o += a(4 * B * (W - 1));
      L.pos = o;
      o += a(4 * B);
      L.rowIds = o;
      o += a(4 * B);
      L.grads = o;
      o += a(4 * B * W);
      if (!rows.reserve(o)) return false;
      this.Bcap = B;
    }
    return true;
  }

  /**
   * The catch-up table of a group at `ptr`: for k < 65536 idle steps, float32 (M, A, Dr, 0)
   * with M = beta2^k, A = a^k (a = 1 - lr wd) and the exact-mode drift
   * Dr = lr (1 - a^k) / (1 - a) (k lr when wd = 0; 0 when beta1 = 0 or mode is decayed), the
   * closed form of lion-rule.ts; refilled when the group's settings change.
   */
  private fillTable(which: number, ptr: number, p: LionParams, catchUpMult: number, mode: SparseMode): void {
    const lr = p.lr * catchUpMult,
      key = `${lr}/${p.beta1}/${p.beta2}/${p.weightDecay}/${mode}`;
    if (this.tableKeys[which] === key) return;
    const t = new Float32Array(this.memory.buffer, ptr, 4 * TABLE);
    const drift = mode === 'exact' && p.beta1 > 0;
    for (let k = 0; k < TABLE; k++) {
      const f = constantCatchUp(p, lr, k);
      t[4 * k] = f[0];
      t[4 * k + 1] = f[1];
      t[4 * k + 2] = drift ? f[2] : 0;
    }
    this.tableKeys[which] = key;
  }
}

/**
 * Whether the wasm kernel runs a group's steps: lazy always; decayed and exact when the lr
 * is constant or turns constant (the catch-up tables hold the tail's closed form).
 */
export function wasmKernelCovers(group: SparseLionGroup, lrAt: LrFunction): boolean {
  return (group.mode ?? 'lazy') === 'lazy' || Number.isFinite(lrAt.constantFrom ?? Infinity);
}

/** Constant multiplier 1 (no schedule). */
const ONE: LrFunction = Object.assign(() => 1, { constantFrom: 0 });

/** Entries per catch-up table (the kernel's TABLE). */
const TABLE = 65536;
const TABLE_BYTES = TABLE * 16;

interface KernelExports {
  accumulate(
    idx: number,
    B: number,
    gx: number,
    D: number,
    dl: number,
    mark: number,
    gen: number,
    pos: number,
    rowIds: number,
    grads: number,
  ): number;
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

/** The compiled kernel module, or null when this runtime cannot compile it (no WebAssembly SIMD). */
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
