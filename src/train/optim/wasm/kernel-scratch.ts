/**
 * Where the wasm kernel's scratch lies in a table chunk's memory (sparse-kernel.ts), after
 * the chunk's rows (from the rows' bytes rounded up to 64), in 64-byte aligned pieces:
 * parameters [19] f64 and the host's factors [4] f32 (at par + 160), two catch-up tables of
 * [65536, 4] f32 (catch-up modes only), then the batch's row indices [B] i32, dLoss/dlogit
 * [B] f32, gradients [B, D] f32, each example's unique-row position [B] i32, the batch's set
 * of rows [2^hbits, 2] i32 (2^hbits >= 2B), unique rows [B] i32 and summed gradients [B, W]
 * f32. A chunk that only takes a step's sums (sumsOnly: a table of several chunks dedupes in
 * a batch memory, batch-kernel.ts) has the last two pieces only. Nothing is per row of the
 * table: the scratch is sized by the batch (before: a dedupe mark [2] i32 per row, 8 B a row).
 */
import type { RowStore } from '../../../model/row-store.ts';
import { TABLE_BYTES } from './catch-up-tables.ts';

/** Rounds up to 64 bytes. */
export const align64 = (x: number): number => Math.ceil(x / 64) * 64;

/** log2 of the entries of a batch's row set for B examples: 2^hbits >= 2B (load <= 0.5), at least 16 entries. */
export function setBits(B: number): number {
  let b = 4;
  while (2 ** b < 2 * B) b++;
  return b;
}

/**
 * The scratch layout of one table's kernel: byte offsets into the memory of each piece
 * (fields named as the kernel's arguments), and the state that lives and dies with the
 * layout: what the catch-up tables hold.
 */
export class KernelScratch {
  /** Byte offsets of the pieces (see the module comment). */
  par = 0;
  tabL = 0;
  tabE = 0;
  idx = 0;
  dl = 0;
  gx = 0;
  pos = 0;
  hash = 0;
  /** log2 of the row set's entries. */
  hbits = 4;
  rowIds = 0;
  grads = 0;
  /** Whether the catch-up tables have their place. */
  hasTables = false;
  /** Settings of the linear and embedding tables' contents ('' = none; see fillCatchUpTable). */
  tableKeys = ['', ''];
  /** Layout of the parameters and tables (rows' scratch base, tables or not). */
  private fixedKey = '';
  /** Where the batch part of the scratch starts, and the batch size (and kind) it holds. */
  private batchBase = 0;
  private Bcap = 0;
  private sumsOnly = false;

  /** The scratch of chunk c of `rows` (in its memory, rows.chunks[c].memory). */
  constructor(
    private readonly rows: RowStore,
    private readonly c = 0,
  ) {}

  /**
   * Places the scratch for a batch of B examples (with the catch-up tables when `tables`;
   * only the unique rows and sums of B rows when `sumsOnly`); false when it does not fit in
   * the 4 GiB memory (rows.reserve). The parameters and tables move (tableKeys reset) only when
   * the rows grow or the tables are first needed; the batch part grows to the largest batch
   * seen, so batches of varying size (Kafka's partial batches) cost nothing.
   */
  layout(B: number, tables: boolean, sumsOnly = false): boolean {
    const a = align64;
    const rows = this.rows,
      W = rows.width,
      base = a(rows.rowsIn(this.c) * rows.stride * 4);
    const fixed = `${base}/${tables || this.hasTables}`;
    if (fixed !== this.fixedKey) {
      let o = base;
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
      this.tableKeys = ['', ''];
      this.fixedKey = fixed;
      this.batchBase = o;
      this.Bcap = 0;
    }
    if (B > this.Bcap || sumsOnly !== this.sumsOnly) {
      let o = this.batchBase;
      if (!sumsOnly) {
        this.hbits = setBits(B);
        this.idx = o;
        o += a(4 * B);
        this.dl = o;
        o += a(4 * B);
        this.gx = o;
        o += a(4 * B * (W - 1));
        this.pos = o;
        o += a(4 * B);
        this.hash = o;
        o += a(8 * 2 ** this.hbits);
      }
      this.rowIds = o;
      o += a(4 * B);
      this.grads = o;
      o += a(4 * B * W);
      if (!rows.reserve(o, this.c)) return false;
      this.Bcap = B;
      this.sumsOnly = sumsOnly;
    }
    return true;
  }
}
