/**
 * Training with the rows in a store behind RowAccess (row-access.ts; e.g. a distributed one
 * shared by several trainers): around each train step, `pull` looks up the batch's rows of
 * every slot into the model's local tables (the working set) and `push` writes the rows the
 * step touched back. The step itself is the local one, unchanged (gather, the tower, the
 * in-place sparse kernel), so training through a remote store computes what training on the
 * local store computes: the same ids reach the same rows with the same blocks (weights,
 * momentum, lastStep, updates), whatever row index they get locally.
 *
 *   await sync.pull(batch);  step.run(batch);  await sync.push();
 *
 * An id the store does not have is admitted by the step as on the local store (admission
 * gate, deterministic init from the id); one the gate refuses gets no row and is not pushed.
 * Unless `keepLocal`, the pushed rows leave the local tables after the push (the store holds
 * them; the working set is one batch's rows), else they stay as a cache that the next pull of
 * the same ids overwrites. Both sides must use the model's row layout (row-access.ts layoutOf).
 * Cost per step: one lookup and one update call per slot, of the batch's unique ids; each step's lookups
 * (and then its updates) of all slots are in flight together.
 *
 * How a push writes (`update`): `overwrite` writes the rows as the step left them (another trainer's
 * write of the same row between this pull and this push is lost: the later write wins); `merge` sends
 * each row's block from before the step (as pulled, or as admitted for an id the store lacked) with
 * the one after it, and a MergingRowAccess applies the step's change to the row as the store has it
 * now (src/store/redis/merge-rows.ts), so that concurrent steps of several trainers all count.
 * @module
 */
import type { FeatureBatch } from '../features/feature-batch.ts';
import type { CtrModel } from './ctr-model.ts';
import { EmbeddingTable } from './embedding-table.ts';
import { LionctrError } from '../errors.ts';
import { layoutOf, LocalRowAccess, type RowAccess, type RowIds } from './row-access.ts';

/** How a push writes a row: replace it (the later write wins) or merge this step's change into it. */
export type RowUpdateMode = 'overwrite' | 'merge';

/** A RowAccess that can also merge a step's change into its rows (the module doc). */
export interface MergingRowAccess extends RowAccess {
  /**
   * Writes `blocks` [n, stride] of rows `ids` of `slot` as the change from `old` [n, stride] (the rows
   * before the step) applied to the rows as the store has them now; a row absent or unchanged since
   * `old` gets `blocks`.
   */
  merge(slot: string, ids: RowIds, old: Int32Array, blocks: Int32Array): Promise<void>;
}

/** Pulls a batch's rows from a RowAccess store into a model's tables and pushes them back. */
export class RowSync {
  private readonly local: LocalRowAccess;
  /** Per table, the unique ids of the batch last pulled (what push writes back), their blocks and found flags. */
  private pulled: { ids: RowIds; blocks: Int32Array; found: Uint8Array }[] = [];

  /**
   * @param model the model trained (its tables are the working set).
   * @param store where the rows live.
   * @param keepLocal keep pushed rows in the local tables (a cache) instead of removing them.
   * @param update how push writes (the module doc).
   * @throws LionctrError LIONCTR_INTERNAL for `merge` with a store that cannot merge.
   */
  constructor(
    private readonly model: CtrModel,
    private readonly store: RowAccess | MergingRowAccess,
    private readonly keepLocal = false,
    readonly update: RowUpdateMode = 'overwrite',
  ) {
    this.local = LocalRowAccess.of(model);
    if (update === 'merge' && !('merge' in store))
      throw new LionctrError('LIONCTR_INTERNAL', 'RowSync: update=merge needs a row store with merge()');
  }

  /**
   * Before a step on `batch`: every slot's unique ids of the batch looked up in the store;
   * found rows are written into the local table, ids the store lacks are removed from it (the
   * step admits them afresh).
   * @throws what the store's lookup throws; LIONCTR_INTERNAL when a local table is full.
   */
  async pull(batch: FeatureBatch): Promise<void> {
    const F = this.model.slots.length;
    this.pulled = [];
    // every slot's lookup is sent before any is awaited: one wave of round trips per step, not F
    const calls = this.model.tables.map(async (t, f) => {
      const S = layoutOf(t).stride,
        ids = uniqueIds(batch, f, F);
      const blocks = new Int32Array(ids.n * S),
        found = new Uint8Array(ids.n);
      await this.store.lookup(t.slot, ids, blocks, found);
      return { ids, blocks, found };
    });
    const answers = await Promise.all(calls);
    for (const [f, { ids, blocks, found }] of answers.entries()) {
      const t = this.model.tables[f];
      const have = compact(ids, found, blocks, layoutOf(t).stride);
      this.local.update(t.slot, have.ids, have.blocks);
      for (let i = 0; i < ids.n; i++) if (!found[i]) removeRow(t, ids.hi[i], ids.lo[i]);
      this.pulled.push({ ids, blocks, found });
    }
  }

  /**
   * After the step: the rows of the pulled ids that have a local row (the gate may have refused
   * some) written to the store, then (unless keepLocal) removed from the local tables.
   * @throws what the store's update throws (the local rows are then kept: a retry can push them).
   */
  async push(): Promise<void> {
    const merge = this.update === 'merge';
    const pushed = this.pulled.map((p, f) => {
      const t = this.model.tables[f],
        S = layoutOf(t).stride,
        ids = p.ids;
      const blocks = new Int32Array(ids.n * S),
        found = new Uint8Array(ids.n);
      this.local.lookup(t.slot, ids, blocks, found);
      if (merge) admittedBlocks(t, p.ids, p.found, p.blocks); // the old block of an id the store lacked
      return { ...compact(ids, found, blocks, S), old: merge ? compact(ids, found, p.blocks, S).blocks : null };
    });
    // all slots' updates at once (one wave of round trips), the local rows removed only when all are written
    await Promise.all(
      pushed.map((have, f) => {
        const slot = this.model.tables[f].slot;
        return have.old
          ? (this.store as MergingRowAccess).merge(slot, have.ids, have.old, have.blocks)
          : this.store.update(slot, have.ids, have.blocks);
      }),
    );
    if (!this.keepLocal)
      for (const [f, have] of pushed.entries())
        for (let i = 0; i < have.ids.n; i++) removeRow(this.model.tables[f], have.ids.hi[i], have.ids.lo[i]);
    this.pulled = [];
  }
}

/**
 * Into `blocks` [n, stride], for each id with found[i] = 0, its block as `t` admits it (the init from
 * the id, zero momentum and count): what the step started from for an id the store lacked.
 */
function admittedBlocks(t: EmbeddingTable, ids: RowIds, found: Uint8Array, blocks: Int32Array): void {
  const S = layoutOf(t).stride;
  let scratch: EmbeddingTable | null = null;
  for (let i = 0; i < ids.n; i++) {
    if (found[i]) continue;
    scratch ??= new EmbeddingTable('', t.dim, { initStd: t.initStd, initialCapacity: 16, momentumDtype: t.rows.dtype });
    const r = scratch.findOrAdmit(ids.hi[i], ids.lo[i]),
      rows = scratch.rows;
    blocks.set(rows.wordsOf(r).subarray(rows.at(r), rows.at(r) + S), i * S);
  }
}

/**
 * Removes id (hi, lo) from `t` when it has a row, and zeroes the freed block (the last row's
 * old place), so that the row admitted there next starts with zero momentum and update count
 * as in a fresh table (as eviction.ts removeRow does).
 */
function removeRow(t: EmbeddingTable, hi: number, lo: number): void {
  if (!t.remove(hi, lo)) return;
  t.rows.zeroRow(t.size);
}

/** The unique ids of slot f (of F) in `batch`, in order of first occurrence. */
function uniqueIds(batch: FeatureBatch, f: number, F: number): RowIds {
  const B = batch.size,
    hi = new Uint32Array(B),
    lo = new Uint32Array(B);
  // a weights-only table of width 1 as a set of ids (hashing as the tables do)
  const seen = new EmbeddingTable('', 0, { initialCapacity: B, momentumDtype: 'none' });
  let n = 0;
  for (let b = 0; b < B; b++) {
    const h = batch.idHi[b * F + f],
      l = batch.idLo[b * F + f];
    if (seen.find(h, l) >= 0) continue;
    seen.findOrAdmit(h, l);
    hi[n] = h;
    lo[n++] = l;
  }
  return { hi, lo, n };
}

/** The ids with found[i] = 1 and their blocks (stride S words), packed in order. */
function compact(ids: RowIds, found: Uint8Array, blocks: Int32Array, S: number): { ids: RowIds; blocks: Int32Array } {
  const hi = new Uint32Array(ids.n),
    lo = new Uint32Array(ids.n),
    out = new Int32Array(ids.n * S);
  let n = 0;
  for (let i = 0; i < ids.n; i++) {
    if (!found[i]) continue;
    hi[n] = ids.hi[i];
    lo[n] = ids.lo[i];
    out.set(blocks.subarray(i * S, (i + 1) * S), n * S);
    n++;
  }
  return { ids: { hi, lo, n }, blocks: out.subarray(0, n * S) };
}
