/**
 * The published version's model without a second copy of it: the publish gate
 * (src/train/publish-gate.ts) scores the version being served beside the candidate, and the
 * two differ only in the rows trained since the publish and in the dense tower. So at each
 * publish this keeps a copy of the tower's weights (small), which row indices of every table
 * hold a published row, and from then on, copy-on-write, the values (linear weight + vector,
 * W floats) of each published row the first time a training step is about to change it
 * (TrainStep.rowListeners is called before the sparse updates). The served version's row = the
 * saved copy if there is one, else the current row; rows admitted after the publish are
 * unknown to it (a zero vector and linear weight 0, as serving treats unknown ids).
 *
 * Rows removed from a table (EmbeddingTable.remove: the last row moves into the freed index)
 * are followed through the table's removeListeners: a published row that goes is saved first,
 * by id (the served version still has it), and the per-row state moves with the row that
 * moves, so an index freed or filled by a row admitted since never reads as published.
 *
 * Memory: an index of 4 bytes per row published, W * 4 bytes per published row changed
 * since the publish (the pool grows by half: up to 1.5 times that), and the tower; a removed
 * published row takes a row of a small weights-only table (about 4W + 32 bytes); `bytes` says
 * how much. At worst (every row changed) 4 + 4W to 4 + 6W bytes per row: a bit more than the
 * exported rows' W * 4.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LionctrError } from '../errors.ts';
import type { FeatureBatch } from '../features/feature-batch.ts';
import type { CtrModel } from '../model/ctr-model.ts';
import { EmbeddingTable } from '../model/embedding-table.ts';
import type { TrainStep } from './train-step.ts';

/** `SavedRows.index` of a row index that holds no published row (freed, or a row admitted since). */
const UNPUBLISHED = -1;

/**
 * The saved rows of one table: which row indices hold a published row, which of those are
 * saved and where, their values, and the published rows removed since (by id).
 */
class SavedRows {
  /**
   * [rows at the publish] per row index: 1 + the ordinal of its saved copy in `pool`, 0 while
   * published and unsaved, UNPUBLISHED when no published row is there (any index >= length).
   */
  readonly index: Int32Array;
  /** Saved values, W floats per saved row in the order saved (grown by half). */
  pool: Float32Array;
  count = 0;
  /** Published rows removed since the publish, by id, with their published values (null before the first). */
  removed: EmbeddingTable | null = null;

  constructor(
    readonly rows: number,
    readonly width: number,
    private readonly slot: string,
  ) {
    this.index = new Int32Array(rows);
    this.pool = new Float32Array(0);
  }

  /** Whether row index r holds a published row. */
  published(r: number): boolean {
    return r >= 0 && r < this.rows && this.index[r] >= 0;
  }

  /** Saves row r's W values from `data` at `offset` if r holds a published row not saved yet. */
  save(r: number, data: Float32Array, offset: number): void {
    if (r < 0 || r >= this.rows || this.index[r] !== 0) return;
    const W = this.width,
      at = this.count * W;
    if (at + W > this.pool.length) {
      const grown = new Float32Array(Math.max(64 * W, Math.ceil((this.pool.length * 1.5) / W) * W));
      grown.set(this.pool.subarray(0, at));
      this.pool = grown;
    }
    this.pool.set(data.subarray(offset, offset + W), at);
    this.index[r] = ++this.count;
  }

  /** Offset of row r's saved values in `pool`, or -1 when it is not saved (or not published). */
  savedAt(r: number): number {
    const i = r < this.rows ? this.index[r] : UNPUBLISHED;
    return i <= 0 ? -1 : (i - 1) * this.width;
  }

  /**
   * EmbeddingTable.removeListeners of `table`: row `row` goes (saved by id when published),
   * then row `last` moves into it, its state with it; `last` is free.
   */
  removing(table: EmbeddingTable, row: number, last: number): void {
    if (this.published(row)) {
      const at = this.savedAt(row);
      const o = table.rows.weightsAt(row);
      const values =
        at >= 0 ? this.pool.subarray(at, at + this.width) : table.rows.dataOf(row).subarray(o, o + this.width);
      this.removed ??= new EmbeddingTable(this.slot, this.width - 1, { initialCapacity: 16, momentumDtype: 'none' });
      this.removed.put(table.idHi(row), table.idLo(row), values);
    }
    if (row < this.rows) this.index[row] = last !== row && last < this.rows ? this.index[last] : UNPUBLISHED;
    if (last < this.rows) this.index[last] = UNPUBLISHED;
  }

  get bytes(): number {
    return this.index.byteLength + this.pool.byteLength + (this.removed?.bytes ?? 0);
  }
}

/**
 * The model as it was at the last publish (see the module doc). Attach it to the TrainStep
 * that trains `model` before the first step after a publish; call `capture()` at every
 * publish. Before the first capture it holds nothing and `published` is false.
 */
export class PublishedSnapshot {
  /** The tower's weights at the publish, one array per variable (model.tower.vars order). */
  private tower: Float32Array[] = [];
  /** One per table, in model order; empty before the first capture. */
  private saved: SavedRows[] = [];
  private readonly listener = (rowIdx: Int32Array, F: number) => this.beforeUpdate(rowIdx, F);
  /** The tables whose removeListeners hold one of ours, and that listener. */
  private removeHooks: { table: EmbeddingTable; hook: (row: number, last: number) => void }[] = [];

  /** @param model the model being trained (the candidate); its rows are read, never written. */
  constructor(
    readonly model: CtrModel,
    private readonly step: TrainStep,
  ) {
    step.rowListeners.push(this.listener);
  }

  /** Whether a version was captured (something is published). */
  get published(): boolean {
    return this.saved.length > 0;
  }

  /** Rows saved since the last capture (published rows changed since), over all tables. */
  get rowsSaved(): number {
    return this.saved.reduce((a, s) => a + s.count, 0);
  }

  /** Bytes held: saved values, the per-row index, the tower copy. */
  get bytes(): number {
    return this.saved.reduce((a, s) => a + s.bytes, 0) + this.tower.reduce((a, t) => a + t.byteLength, 0);
  }

  /** The model as it is now is the published one: copies the tower, notes the table sizes, forgets saved rows. */
  capture(): void {
    this.tower = this.model.tower.vars.map((v) => Float32Array.from(v.dataSync() as Float32Array));
    this.saved = this.model.tables.map((t) => new SavedRows(t.size, t.width, t.slot));
    this.unhook();
    this.removeHooks = this.model.tables.map((table, f) => {
      const hook = (row: number, last: number) => this.saved[f]?.removing(table, row, last);
      table.removeListeners.push(hook);
      return { table, hook };
    });
  }

  /** Stops following removes. */
  private unhook(): void {
    for (const { table, hook } of this.removeHooks) {
      const i = table.removeListeners.indexOf(hook);
      if (i >= 0) table.removeListeners.splice(i, 1);
    }
    this.removeHooks = [];
  }

  /** Stops listening to the TrainStep and the tables, and drops what is held. */
  detach(): void {
    const i = this.step.rowListeners.indexOf(this.listener);
    if (i >= 0) this.step.rowListeners.splice(i, 1);
    this.unhook();
    this.tower = [];
    this.saved = [];
  }

  /** TrainStep.rowListeners: saves the published rows among the [B, F] rows about to change. */
  private beforeUpdate(rowIdx: Int32Array, F: number): void {
    if (this.saved.length === 0) return;
    const B = rowIdx.length / F;
    for (let f = 0; f < F; f++) {
      const s = this.saved[f],
        rows = this.model.tables[f].rows;
      for (let b = 0; b < B; b++) {
        const r = rowIdx[b * F + f];
        if (s.published(r)) s.save(r, rows.dataOf(r), rows.weightsAt(r));
      }
    }
  }

  /**
   * Click probabilities [B] of the published version for `batch`, as serving computes them
   * (CtrModel.predict with the published rows and tower; unknown ids read as zeros).
   * @throws LionctrError LIONCTR_INTERNAL when nothing is published yet (capture() first).
   */
  predict(batch: FeatureBatch): Float32Array {
    if (!this.published)
      throw new LionctrError('LIONCTR_INTERNAL', 'the published version is scored before any publish');
    const m = this.model,
      B = batch.size,
      F = m.slots.length,
      N = m.schema.numeric.length,
      I = m.inputDim;
    const x = new Float32Array(B * I),
      wide = new Float32Array(B);
    for (let f = 0; f < F; f++) {
      const t = m.tables[f],
        s = this.saved[f],
        D = t.dim,
        co = m.columnOffset(f);
      for (let b = 0; b < B; b++) {
        const k = b * F + f,
          hi = batch.idHi[k],
          lo = batch.idLo[k];
        let w: Float32Array, o: number;
        const gone = s.removed ? s.removed.find(hi, lo) : -1;
        if (gone >= 0) {
          // a published row removed since: its values as published
          w = s.removed!.rows.dataOf(gone);
          o = s.removed!.rows.weightsAt(gone);
        } else {
          const r = t.find(hi, lo);
          if (!s.published(r)) continue; // unknown to the published version
          const at = s.savedAt(r);
          w = at < 0 ? t.rows.dataOf(r) : s.pool;
          o = at < 0 ? t.rows.weightsAt(r) : at;
        }
        const xo = b * I + co;
        wide[b] += w[o];
        for (let j = 0; j < D; j++) x[xo + j] = w[o + 1 + j];
      }
    }
    const dOff = I - N;
    for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) x[b * I + dOff + n] = batch.dense[b * N + n];
    let p: Float32Array = new Float32Array(0);
    tf.tidy(() => {
      const vars = this.tower.map((v, i) => tf.tensor(v, m.tower.vars[i].shape));
      const logits = tf.add(m.deepLogits(tf.tensor2d(x, [B, I]), vars), tf.tensor1d(wide));
      p = tf.sigmoid(logits).dataSync() as Float32Array;
    });
    return p;
  }
}
