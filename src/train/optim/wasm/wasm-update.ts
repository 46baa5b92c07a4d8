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
  /** Examples of a step per chunk (reused). */
  private counts = new Int32Array(0);
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
   * A step over several chunks: the examples counted per chunk, every touched chunk bound and
   * its scratch placed before any row changes (a refusal changes none), the batch staged in
   * one pass (each example into its row's chunk, in batch order), then each chunk's kernel run.
   */
  private chunked(g: BatchGrads, step: number): boolean {
    const rows = this.at.table.rows,
      n = rows.chunks.length,
      { rowIdx, B, F, gx, I, dlogit } = g,
      { f, col } = this.at,
      sh = rows.shift,
      cm = rows.chunkMask,
      D = rows.width - 1;
    if (this.counts.length < n) this.counts = new Int32Array(2 * n);
    const cnt = this.counts.fill(0);
    for (let b = 0; b < B; b++) {
      const r = rowIdx[b * F + f];
      if (r >= 0) cnt[r >>> sh]++;
    }
    const catchUp = (this.group.mode ?? 'lazy') !== 'lazy',
      places: ({ idx: Int32Array; dl: Float32Array; gx: Float32Array } | null)[] = [];
    for (let c = 0; c < n; c++) {
      const k = cnt[c] > 0 ? this.bind(c) : null;
      if (cnt[c] > 0 && !k) return false;
      const p = k ? k.place(cnt[c], catchUp) : null;
      if (k && !p) return false;
      places.push(p);
      cnt[c] = 0; // from here: each chunk's next position
    }
    for (let b = 0; b < B; b++) {
      const r = rowIdx[b * F + f];
      if (r < 0) continue;
      const c = r >>> sh,
        p = places[c]!,
        i = cnt[c]++;
      p.idx[i] = r & cm;
      p.dl[i] = dlogit[b];
      const s = b * I + col,
        d = i * D;
      for (let j = 0; j < D; j++) p.gx[d + j] = gx[s + j];
    }
    for (let c = 0; c < n; c++) if (places[c]) this.kernels[c]!.run(this.group, step, this.lrAt);
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
