/**
 * The WebAssembly SIMD sparse Lion step of one table (sparse-kernel.ts) and its fall-back
 * to the JS one: a table's rows move into a WebAssembly memory of their own on its first
 * step (wasm-memory.ts); when none can be made, or the rows outgrow it, the table goes on
 * with the JS kernel from that step on, and the train step's `note` gets one line per
 * reason (a process-wide reason, such as ulimit -v, would otherwise repeat per table).
 */
import type { LrFunction } from '../schedule.ts';
import type { SparseLionGroup } from '../sparse-lion.ts';
import type { BatchGrads } from '../batch-grads.ts';
import type { SparseUpdate, TableSlot } from '../sparse-update.ts';
import { WasmSparseLion } from './sparse-kernel.ts';
import { useWasmMemory } from './wasm-memory.ts';

/** Sparse Lion on the wasm kernel, bound to the table's memory while the rows are in one. */
export class WasmLionUpdate {
  /** The kernel over the table's memory (made on the first step), or null. */
  kernel: WasmSparseLion | null = null;
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
    let k = this.kernel;
    if (k && k.memory !== rows.memory) k = this.kernel = null;
    if (!k) {
      const why = useWasmMemory(rows);
      if (why) {
        this.refused = why;
        return false;
      }
      k = this.kernel = new WasmSparseLion(rows);
    }
    return k.step(g, this.at.f, this.at.col, this.group, step, this.lrAt);
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
