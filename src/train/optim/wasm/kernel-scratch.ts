/**
 * Where the wasm kernel's scratch lies in a table chunk's memory (sparse-kernel.ts), after
 * the chunk's rows (from the rows' bytes rounded up to 64), in 64-byte aligned pieces: marks
 * [chunk rows, 2] i32, parameters [19] f64 and the host's factors [4] f32 (at par + 160), two
 * catch-up tables of [65536, 4] f32 (catch-up modes only), then the batch's row indices
 * [B] i32, dLoss/dlogit [B] f32, gradients [B, D] f32, each example's unique-row position
 * [B] i32, unique rows [B] i32 and summed gradients [B, W] f32.
 */
import type { RowStore } from '../../../model/row-store.ts';
import { TABLE_BYTES } from './catch-up-tables.ts';

/**
 * The scratch layout of one table's kernel: byte offsets into the memory of each piece
 * (fields named as the kernel's arguments), and the state that lives and dies with the
 * layout: the marks' generation and what the catch-up tables hold.
 */
export class KernelScratch {
  /** Byte offsets of the pieces (see the module comment). */
  mark = 0;
  par = 0;
  tabL = 0;
  tabE = 0;
  idx = 0;
  dl = 0;
  gx = 0;
  pos = 0;
  rowIds = 0;
  grads = 0;
  /** Generation of the marks (0 when they were cleared). */
  gen = 0;
  /** Whether the catch-up tables have their place. */
  hasTables = false;
  /** Settings of the linear and embedding tables' contents ('' = none; see fillCatchUpTable). */
  tableKeys = ['', ''];
  /** Layout of the marks, parameters and tables (rows' scratch base, capacity, tables or not). */
  private fixedKey = '';
  /** Where the batch part of the scratch starts, and the batch size it holds. */
  private batchBase = 0;
  private Bcap = 0;

  /** @param memory the memory chunk c's rows live in (rows.chunks[c].memory). */
  constructor(
    private readonly rows: RowStore,
    private readonly memory: WebAssembly.Memory,
    private readonly c = 0,
  ) {}

  /**
   * Places the scratch for a batch of B examples (with the catch-up tables when `tables`);
   * false when it does not fit in the 4 GiB memory (rows.reserve). The marks, parameters
   * and tables move (and the marks are cleared, gen and tableKeys reset) only when the rows
   * grow or the tables are first needed; the batch part grows to the largest batch seen, so
   * batches of varying size (Kafka's partial batches) cost no clearing.
   */
  layout(B: number, tables: boolean): boolean {
    const a = (x: number) => Math.ceil(x / 64) * 64;
    const rows = this.rows,
      W = rows.width,
      cap = rows.rowsIn(this.c),
      base = a(cap * rows.stride * 4);
    const fixed = `${base}/${cap}/${tables || this.hasTables}`;
    if (fixed !== this.fixedKey) {
      let o = base;
      this.mark = o;
      o += a(8 * cap);
      this.par = o;
      o += a(19 * 8 + 16 + 16); // parameters, then the host's factors at +160
      this.hasTables ||= tables;
      this.tabL = o;
      this.tabE = o;
      if (this.hasTables) {
        this.tabE = o + TABLE_BYTES;
        o += 2 * TABLE_BYTES;
      }
      if (!rows.reserve(o, this.c)) return false;
      new Int32Array(this.memory.buffer, this.mark, 2 * cap).fill(0);
      this.gen = 0;
      this.tableKeys = ['', ''];
      this.fixedKey = fixed;
      this.batchBase = o;
      this.Bcap = 0;
    }
    if (B > this.Bcap) {
      let o = this.batchBase;
      this.idx = o;
      o += a(4 * B);
      this.dl = o;
      o += a(4 * B);
      this.gx = o;
      o += a(4 * B * (W - 1));
      this.pos = o;
      o += a(4 * B);
      this.rowIds = o;
      o += a(4 * B);
      this.grads = o;
      o += a(4 * B * W);
      if (!rows.reserve(o, this.c)) return false;
      this.Bcap = B;
    }
    return true;
  }
}
