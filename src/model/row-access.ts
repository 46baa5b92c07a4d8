/**
 * Batched lookup and update of embedding rows by (slot, id) (issue 12 "An interface for the
 * rows"): the contract a row store outside this process (a distributed one such as Redis
 * Cluster, as TF Recommenders-Addons' RedisTable does) implements so that trainers on several
 * machines share the rows. The local store (EmbeddingTable, its RowStore) stays the default
 * and the fast path: training reads and updates its rows in place (ctr-model.ts gather, the
 * wasm sparse kernel) and never goes through this interface. A remote store is used by
 * row-sync.ts around each step: the batch's rows are looked up into the local tables (a
 * working set), the step runs on them unchanged, and the rows it touched are written back.
 *
 * A row travels as its whole RowStore block (row-store.ts), little-endian 32-bit words:
 *
 *   weights   W float32 (W = dim + 1: the linear weight, then the embedding)
 *   momentum  W float32, or W bfloat16 halves then the update count (uint16, saturating) padded
 *             to ceil((W + 1)/2) words (model.momentumDtype)
 *   lastStep  int32: the last step whose update the row has had (the sparse catch-up reads it)
 *   updates   int32 (float32 momentum only): optimizer updates the row has had
 *
 * so (2W + 2) * 4 bytes a row with float32 momentum and (W + ceil((W + 1)/2) + 1) * 4 with
 * bfloat16: 144 and 108 bytes at dim 16, plus the key. Bytes are copied, never re-encoded, so a row
 * read back is bit for bit the row written (the remote-store test relies on it).
 *
 * What a Redis (Cluster) backend implements:
 *   - key per row: `<prefix>:<slot>:<id as 16 hex digits>` (no hash tag: rows spread over the
 *     cluster's slots); value: the block's bytes as above (a string value of stride * 4 bytes);
 *   - lookup: the ids' GETs grouped by cluster slot (MGET per node, pipelined), a missing key
 *     -> found[i] = 0 (the trainer then admits the id afresh: deterministic init from the id);
 *   - update: the blocks' SETs, pipelined likewise (MSET per node); EXPIRE for a TTL instead of
 *     the local eviction;
 *   - concurrency: with `update` alone, two trainers updating one row in the same step both read
 *     the old block and the later write wins (Hogwild-style, as in TFRA); the Redis backend also
 *     merges (`rows.redis.update=merge`, the default: a Lua script adds each step's change to the
 *     row as stored; `MergingRowAccess` in row-sync.ts, src/store/redis/merge-rows.ts). The
 *     admission sketch (admission.ts) stays per process.
 * @module
 */
import { LionctrError } from '../errors.ts';
import type { CtrModel } from './ctr-model.ts';
import type { EmbeddingTable } from './embedding-table.ts';

/** Ids of a batch of rows: the [n] halves of each 64-bit feature id (id = hi * 2^32 + lo). */
export interface RowIds {
  hi: Uint32Array;
  lo: Uint32Array;
  n: number;
}

/** How a slot's row blocks are laid out (RowStore's layout; the same on both sides of a store). */
export interface RowLayout {
  /** W, weights per row (dim + 1). */
  width: number;
  momentum: 'float32' | 'bfloat16';
  /** 32-bit words per row block. */
  stride: number;
}

/** A value now (a local store) or later (a remote one). */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Batched row lookup and update by (slot, id). Implementations answer synchronously (the local
 * store: its methods return void, so a caller holding a LocalRowAccess calls them with no
 * promise or microtask) or asynchronously (a network store: the caller awaits).
 */
export interface RowAccess {
  /**
   * Copies the blocks of rows `ids` of `slot` into `out` [n, stride] words; found[i] = 1 where
   * the row exists, 0 where not (its words in `out` are then left as they were).
   * @throws (or rejects) LionctrError LIONCTR_INTERNAL for an unknown slot; a remote store's
   *   own errors (unreachable: LIONCTR_UNAVAILABLE).
   */
  lookup(slot: string, ids: RowIds, out: Int32Array, found: Uint8Array): MaybePromise<void>;
  /**
   * Writes the blocks [n, stride] words of rows `ids` of `slot`, creating the rows that do not
   * exist. Ids are unique within a call.
   * @throws as lookup; a local store full at its memory budget throws LIONCTR_INTERNAL.
   */
  update(slot: string, ids: RowIds, blocks: Int32Array): MaybePromise<void>;
}

/** The row layout of a local table. */
export function layoutOf(t: EmbeddingTable): RowLayout {
  if (t.rows.weightsOnly)
    throw new LionctrError('LIONCTR_INTERNAL', `table "${t.slot}" holds weights only (a served table): no row blocks`);
  return { width: t.width, momentum: t.rows.dtype, stride: t.rows.stride };
}

/**
 * The local store behind RowAccess: a model's tables, synchronously (never a promise). Rows
 * written are admitted without the admission gate (they exist elsewhere already).
 */
export class LocalRowAccess implements RowAccess {
  private readonly bySlot: Map<string, EmbeddingTable>;

  constructor(tables: readonly EmbeddingTable[]) {
    this.bySlot = new Map(tables.map((t) => [t.slot, t]));
  }

  /** The store over `model`'s tables. */
  static of(model: CtrModel): LocalRowAccess {
    return new LocalRowAccess(model.tables);
  }

  /** The table of `slot`. @throws LionctrError LIONCTR_INTERNAL when there is none. */
  table(slot: string): EmbeddingTable {
    const t = this.bySlot.get(slot);
    if (!t) throw new LionctrError('LIONCTR_INTERNAL', `no embedding table for slot ${JSON.stringify(slot)}`);
    return t;
  }

  lookup(slot: string, ids: RowIds, out: Int32Array, found: Uint8Array): void {
    const t = this.table(slot),
      S = layoutOf(t).stride,
      rows = t.rows;
    for (let i = 0; i < ids.n; i++) {
      const r = t.find(ids.hi[i], ids.lo[i]);
      found[i] = r < 0 ? 0 : 1;
      if (r >= 0) out.set(rows.wordsOf(r).subarray(rows.at(r), rows.at(r) + S), i * S);
    }
  }

  update(slot: string, ids: RowIds, blocks: Int32Array): void {
    const t = this.table(slot),
      S = layoutOf(t).stride,
      none = new Float32Array(0);
    for (let i = 0; i < ids.n; i++) {
      let r = t.find(ids.hi[i], ids.lo[i]);
      if (r < 0) r = t.put(ids.hi[i], ids.lo[i], none);
      // t.rows is re-read: put() may have grown the table (new views)
      t.rows.wordsOf(r).set(blocks.subarray(i * S, (i + 1) * S), t.rows.at(r));
    }
  }
}
