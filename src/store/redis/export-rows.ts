/**
 * What an export of a trainer on shared rows (rows.store=redis) holds: every row in Redis under the
 * key prefix, not only those this trainer has seen (issue 16). Before the export writer runs, the
 * export lock's holder (export-lock.ts) SCANs every master node of the cluster for the prefix's row
 * keys (`<prefix>:<slot>:<16 hex digits>`, row-keys.ts) and copies those rows into its local tables
 * (LocalRowAccess.update, no admission gate: they exist already); after the export, unless
 * rows.redis.keepLocal, the rows it brought in leave the tables again. So the exporting trainer holds
 * the whole model in memory during an export, as a server of it does. Rows are read while other
 * trainers go on writing: an export is a fuzzy snapshot (each row whole, as some trainer last wrote it).
 * @module
 */
import type { Cluster } from 'ioredis';
import type { CtrModel } from '../../model/ctr-model.ts';
import { LocalRowAccess, layoutOf, type RowIds } from '../../model/row-access.ts';
import type { RedisRowAccess } from './redis-row-access.ts';

/** Keys asked for in one SCAN step, and ids looked up in one lookup call. */
const SCAN_COUNT = 1000;
const LOOKUP_IDS = 8192;

/** What refreshAllRows brought in: per slot the ids it admitted into the local tables (absent before). */
export interface BroughtRows {
  ids: Map<string, { hi: number[]; lo: number[] }>;
  /** Rows read from Redis (all slots), and keys scanned. */
  rows: number;
  keys: number;
}

/** `s` with Redis glob characters escaped (for a MATCH pattern). */
const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/**
 * Copies every row of `model`'s slots under `keyPrefix` from the cluster into the model's tables.
 * @returns the ids newly admitted (dropRows removes them again) and counts.
 * @throws what the store's lookup throws (LIONCTR_UNAVAILABLE, LIONCTR_BAD_CONFIG for a row of
 *   another size); a node's SCAN error.
 */
export async function refreshAllRows(
  cluster: Cluster,
  store: RedisRowAccess,
  model: CtrModel,
  keyPrefix: string,
): Promise<BroughtRows> {
  const local = LocalRowAccess.of(model);
  const slots = new Set(model.slots);
  const pending = new Map<string, { hi: number[]; lo: number[] }>();
  const brought: BroughtRows = { ids: new Map(), rows: 0, keys: 0 };
  const flush = async (slot: string) => {
    const p = pending.get(slot);
    if (!p || p.hi.length === 0) return;
    pending.set(slot, { hi: [], lo: [] });
    const ids: RowIds = { hi: Uint32Array.from(p.hi), lo: Uint32Array.from(p.lo), n: p.hi.length };
    const t = local.table(slot),
      S = layoutOf(t).stride;
    const blocks = new Int32Array(ids.n * S),
      found = new Uint8Array(ids.n);
    await store.lookup(slot, ids, blocks, found);
    const mine = brought.ids.get(slot) ?? { hi: [], lo: [] };
    brought.ids.set(slot, mine);
    let n = 0;
    for (let i = 0; i < ids.n; i++) {
      if (!found[i]) continue; // expired or deleted since the SCAN
      if (t.find(ids.hi[i], ids.lo[i]) < 0) {
        mine.hi.push(ids.hi[i]);
        mine.lo.push(ids.lo[i]);
      }
      ids.hi[n] = ids.hi[i];
      ids.lo[n] = ids.lo[i];
      blocks.copyWithin(n * S, i * S, (i + 1) * S);
      n++;
    }
    local.update(slot, { hi: ids.hi, lo: ids.lo, n }, blocks.subarray(0, n * S));
    brought.rows += n;
  };
  const prefix = `${keyPrefix}:`;
  for (const node of cluster.nodes('master')) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', SCAN_COUNT);
      cursor = next;
      brought.keys += keys.length;
      for (const k of keys) {
        const m = /^(.*):([0-9a-f]{8})([0-9a-f]{8})$/.exec(k.slice(prefix.length));
        if (!m || !slots.has(m[1])) continue; // the lock, dense weights, another model's slot
        const p = pending.get(m[1]) ?? { hi: [], lo: [] };
        pending.set(m[1], p);
        p.hi.push(Number.parseInt(m[2], 16));
        p.lo.push(Number.parseInt(m[3], 16));
        if (p.hi.length >= LOOKUP_IDS) await flush(m[1]);
      }
    } while (cursor !== '0');
  }
  for (const slot of pending.keys()) await flush(slot);
  return brought;
}

/**
 * Removes the rows refreshAllRows brought in from the model's tables, zeroing each freed block (as
 * row-sync.ts removeRow does, so that a row admitted there later starts as in a fresh table).
 */
export function dropRows(model: CtrModel, brought: BroughtRows): void {
  for (const t of model.tables) {
    const ids = brought.ids.get(t.slot);
    if (!ids) continue;
    for (let i = 0; i < ids.hi.length; i++) if (t.remove(ids.hi[i], ids.lo[i])) t.rows.zeroRow(t.size);
  }
}
