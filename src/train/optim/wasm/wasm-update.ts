/**
 * The WebAssembly SIMD sparse Lion step of one table (sparse-kernel.ts) and its fall-back
 * to the JS one: each chunk of a table's rows (RowStore) moves into a WebAssembly memory of
 * its own on the first step that touches it (wasm-memory.ts), with a kernel instance of its
 * own; a step over several chunks dedupes and sums the batch in a memory of its own
 * (batch-kernel.ts) and runs the Lion step of each chunk the batch touches, in chunk order (a
 * row's gradients are summed in batch order: the same sums as over one memory).
 * When no memory can be made, or a chunk outgrows it, the table goes on
 * with the JS kernel from that step on, and the train step's `note` gets one line per
 * reason (a process-wide reason, such as ulimit -v, would otherwise repeat per table).
 */
import type { LrFunction } from '../schedule.ts';
import type { SparseLionGroup } from '../sparse-lion.ts';
import type { BatchGrads } from '../batch-grads.ts';
import type { SparseUpdate, TableSlot } from '../sparse-update.ts';
import { BatchKernel } from './batch-kernel.ts';
import { WasmSparseLion } from './sparse-kernel.ts';
import { useWasmMemory } from './wasm-memory.ts';

/** Sparse Lion on the wasm kernel, bound to the table chunks' memories while the rows are in them. */
export class WasmLionUpdate {
  /** The kernel over each chunk's memory (made on the first step that touches it), or null. */
  kernels: (WasmSparseLion | null)[] = [];
  /** The kernel of chunk 0 (the only one of a table up to chunkRows rows), or null. */
  get kernel(): WasmSparseLion | null {
    return this.kernels[0] ?? null;
  }
  /** The batch memory of a table of several chunks (made on its first such step), or null. */
  private batch: BatchKernel | null = null;
  /** Why the table cannot have a WebAssembly memory (set once; then tryApply() does nothing), or null. */
  refused: string | null = null;

  /** @param lrAt the schedule; must turn constant for decayed/exact (wasmKernelCovers()). */
  constructor(
    private readonly at: TableSlot,
    private readonly group: SparseLionGroup,
    private readonly lrAt: LrFunction,
  ) {}

  /**
   * One step on the wasm kernel. Lets go of a kernel whose memory the rows left (they
   * outgrew it: RowStore.grow); makes one, moving the rows into a memory, when there is none.
   * @returns false when it did nothing: the table cannot have a memory (`refused` says why)
   *   or the batch's scratch does not fit in it (the caller runs the JS step instead).
   */
  tryApply(g: BatchGrads, step: number): boolean {
    if (this.refused !== null) return false;
    const rows = this.at.table.rows;
    if (rows.chunks.length === 1) {
      const k = this.bind(0);
      if (!k) return false;
      return k.step(g, this.at.f, this.at.col, this.group, step, this.lrAt);
    }
    return this.chunked(g, step);
  }

  /**
   * A step over several chunks: the batch deduped and summed in the table's batch memory
   * (batch-kernel.ts), its unique rows grouped by chunk; every touched chunk bound and its
   * scratch placed before any row changes (a refusal changes none), then each chunk given its
   * rows and sums (two bulk copies) and its kernel's Lion step run, in chunk order.
   */
  private chunked(g: BatchGrads, step: number): boolean {
    const rows = this.at.table.rows,
      n = rows.chunks.length,
      W = rows.width;
    if (!this.batch) {
      this.batch = BatchKernel.make(W);
      if (!this.batch) {
        this.refused = 'V8 could not reserve a WebAssembly memory for the batch';
        return false;
      }
    }
    const u = this.batch.sums(g, this.at.f, this.at.col, rows.shift, n);
    if (!u) return false;
    const catchUp = (this.group.mode ?? 'lazy') !== 'lazy',
      places: ({ rowIds: Int32Array; grads: Float32Array } | null)[] = [];
    for (let c = 0, b = 0; c < n; c++) {
      const e = u.ends[c],
        k = e > b ? this.bind(c) : null;
      if (e > b && !k) return false;
      const p = k ? k.placeSums(e - b, catchUp) : null;
      if (k && !p) return false;
      places.push(p);
      b = e;
    }
    for (let c = 0, b = 0; c < n; c++) {
      const p = places[c],
        e = u.ends[c];
      if (p) {
        p.rowIds.set(u.ids.subarray(b, e));
        p.grads.set(u.grads.subarray(b * W, e * W));
        this.kernels[c]!.update(this.group, step, this.lrAt);
      }
      b = e;
    }
    return true;
  }

  /**
   * The kernel of chunk c, made (moving the chunk into a memory) when it has none or the
   * chunk left its memory; null when refused (`refused` says why).
   */
  private bind(c: number): WasmSparseLion | null {
    const rows = this.at.table.rows;
    let k = this.kernels[c] ?? null;
    if (k && k.memory !== rows.chunks[c].memory) k = this.kernels[c] = null;
    if (!k) {
      const why = useWasmMemory(rows, c);
      if (why) {
        this.refused = why;
        return null;
      }
      k = this.kernels[c] = new WasmSparseLion(rows, c);
    }
    return k;
  }
}

/** The reasons already logged by the fall-backs of one train step (shared by its tables). */
export type FallbackLog = { note: (msg: string) => void; said: Set<string> };

/**
 * A table's sparse step on the wasm kernel, falling back to the JS step when the wasm one
 * does nothing (no memory for the table: from then on; scratch too large: that step).
 */
export class WasmFallback implements SparseUpdate {
  constructor(
    readonly wasm: WasmLionUpdate,
    readonly js: SparseUpdate,
    private readonly slot: string,
    private readonly log: FallbackLog,
  ) {}

  /** Whether the JS step runs this table from now on (the wasm one was refused a memory). */
  get fellBack(): boolean {
    return this.wasm.refused !== null;
  }

  apply(g: BatchGrads, step: number): void {
    if (this.wasm.refused === null) {
      if (this.wasm.tryApply(g, step)) return;
      const why = this.wasm.refused;
      if (why !== null && !this.log.said.has(why)) {
        this.log.said.add(why);
        this.log.note(
          `sparse step of slot ${this.slot}: js kernel from step ${step} on, ${why}` +
            ' (other tables falling back for this reason are not logged)',
        );
      }
    }
    this.js.apply(g, step);
  }
}
