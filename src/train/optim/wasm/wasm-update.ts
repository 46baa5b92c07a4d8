/**
 * The WebAssembly SIMD sparse Lion step of one table (sparse-kernel.ts) and its fall-back
 * to the JS one: each chunk of a table's rows (RowStore) moves into a WebAssembly memory of
 * its own on the first step that touches it (wasm-memory.ts), with a kernel instance of its
 * own; a step runs the kernel of each chunk the batch touches, in chunk order (a row's
 * gradients are summed in batch order within its chunk: the same sums as over one memory).
 * When no memory can be made, or a chunk outgrows it, the table goes on
 * with the JS kernel from that step on, and the train step's `note` gets one line per
 * reason (a process-wide reason, such as ulimit -v, would otherwise repeat per table).
 */
import type { LrFunction } from '../schedule.ts';
import type { SparseLionGroup } from '../sparse-lion.ts';
import type { BatchGrads } from '../batch-grads.ts';
import type { SparseUpdate, TableSlot } from '../sparse-update.ts';
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
  /** Flags of the chunks a step touches (reused). */
  private touched = new Uint8Array(0);
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
    const n = rows.chunks.length,
      { rowIdx, B, F } = g,
      f = this.at.f,
      sh = rows.shift;
    if (this.touched.length < n) this.touched = new Uint8Array(2 * n);
    const t = this.touched.fill(0);
    for (let b = 0; b < B; b++) {
      const r = rowIdx[b * F + f];
      if (r >= 0) t[r >>> sh] = 1;
    }
    // every touched chunk bound and staged before any runs: a refusal changes no row
    const catchUp = (this.group.mode ?? 'lazy') !== 'lazy';
    for (let c = 0; c < n; c++)
      if (t[c] && (!this.bind(c) || !this.kernels[c]!.stage(g, f, this.at.col, catchUp))) return false;
    for (let c = 0; c < n; c++) if (t[c]) this.kernels[c]!.run(this.group, step, this.lrAt);
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
