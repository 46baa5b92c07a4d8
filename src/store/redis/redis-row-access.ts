/**
 * RowAccess (src/model/row-access.ts) over a Redis Cluster through ioredis: each row a string
 * value of its whole block's bytes (stride * 4 bytes, little-endian words, copied, never
 * re-encoded) under `<prefix>:<slot>:<id as 16 hex digits>` (row-keys.ts). A lookup groups the
 * batch's keys by cluster hash slot and sends one MGET per hash slot (a multi-key command must
 * stay within one slot); an update one MSET per hash slot, or one SET ... PX per row when rows
 * expire (ttlSeconds > 0). All of a call's commands are sent at once and ioredis's auto-pipelining
 * writes those of one node in one pipeline, so a call costs about one round trip per master
 * node it touches. ioredis follows MOVED/ASK and retries through a failover (a replica taking
 * over a killed master); what still fails, or outlasts the call's timeout, rejects with
 * LIONCTR_UNAVAILABLE saying the call, the feature slot, the key count and the node.
 * Concurrency: update() is an overwrite, the later write of a row wins (Hogwild-style; row-access.ts's
 * module doc); merge() sends the step's old and new blocks to a Lua script that adds the step's change to
 * the row as it is in Redis (merge-rows.ts), one EVALSHA per row, so concurrent steps all count.
 * @module
 */
import { endianness } from 'node:os';
import type { Cluster } from 'ioredis';
import { LionctrError } from '../../errors.ts';
import type { RowIds, RowLayout } from '../../model/row-access.ts';
import type { MergingRowAccess } from '../../model/row-sync.ts';
import { MERGE_ROWS_LUA } from './merge-rows.ts';
import { keySlot, rowKey } from './row-keys.ts';

/** How a RedisRowAccess names, sizes and keeps its rows. */
export interface RedisRowOptions {
  /** Key prefix (rows.redis.keyPrefix). */
  keyPrefix: string;
  /** Words per row block of a feature slot (the layout, row-access.ts layoutOf). @throws for an unknown slot. */
  strideOf: (slot: string) => number;
  /** The row layout of a slot (width and momentum dtype), needed by merge(). @throws for an unknown slot. */
  layoutOf?: (slot: string) => RowLayout;
  /** Rows expire this many seconds after their last write; 0 = never (rows.redis.ttlSeconds). */
  ttlSeconds: number;
  /** Milliseconds a call may take, retries included, before it rejects (0 = no limit). */
  timeoutMs: number;
}

/** What a RedisRowAccess has done (counters since it was made). */
export interface RedisRowStats {
  lookups: number;
  updates: number;
  /** Keys asked for, found among them, and written. */
  keysRead: number;
  keysFound: number;
  keysWritten: number;
  /** Value bytes read and written (keys and protocol framing not included). */
  bytesRead: number;
  bytesWritten: number;
  /** Redis commands sent (MGET, MSET or SET), and (node, call) pairs: the pipelines sent, one round trip each. */
  commands: number;
  pipelines: number;
  /** Calls that rejected. */
  failedCalls: number;
  /** merge() calls, and the rows they wrote that another writer had changed since the pull (merged, not replaced). */
  merges: number;
  rowsMerged: number;
}

/** The merge script as ioredis defines it on the cluster (numkeys, keys, then ARGV). */
type MergeCommand = { lionctrMergeRows(...args: (string | number | Buffer)[]): Promise<number> };

/** One call's keys grouped by hash slot: slot -> indices into the ids. */
type SlotGroups = Map<number, number[]>;

/** Embedding rows in a Redis Cluster (see the module doc). The cluster is the caller's to connect and to quit. */
export class RedisRowAccess implements MergingRowAccess {
  readonly stats: RedisRowStats = {
    lookups: 0,
    updates: 0,
    keysRead: 0,
    keysFound: 0,
    keysWritten: 0,
    bytesRead: 0,
    bytesWritten: 0,
    commands: 0,
    pipelines: 0,
    failedCalls: 0,
    merges: 0,
    rowsMerged: 0,
  };

  /** @throws LionctrError LIONCTR_INTERNAL on a big-endian host (the blocks' words are stored little-endian). */
  constructor(
    readonly cluster: Cluster,
    private readonly opts: RedisRowOptions,
  ) {
    if (endianness() !== 'LE')
      throw new LionctrError('LIONCTR_INTERNAL', 'the Redis row store needs a little-endian host');
    if (!('lionctrMergeRows' in cluster))
      cluster.defineCommand('lionctrMergeRows', { lua: MERGE_ROWS_LUA, numberOfKeys: 1 });
  }

  async lookup(slot: string, ids: RowIds, out: Int32Array, found: Uint8Array): Promise<void> {
    const S = this.opts.strideOf(slot),
      bytes = S * 4;
    this.stats.lookups++;
    if (ids.n === 0) return;
    const { keys, groups } = this.keysOf(slot, ids);
    const outBytes = new Uint8Array(out.buffer, out.byteOffset, ids.n * bytes);
    const replies = await this.call('lookup', slot, ids.n, groups, (idx) =>
      this.cluster.mgetBuffer(...idx.map((i) => keys[i])),
    );
    for (const [g, idx] of [...groups.values()].entries()) {
      const values = replies[g] as (Buffer | null)[];
      for (let k = 0; k < idx.length; k++) {
        const i = idx[k],
          v = values[k];
        found[i] = v ? 1 : 0;
        if (!v) continue;
        if (v.length !== bytes)
          throw new LionctrError(
            'LIONCTR_BAD_CONFIG',
            `row ${keys[i]} in Redis has ${v.length} bytes, the model's rows of slot "${slot}" have ${bytes}: ` +
              'rows of a model of another shape (embedding dim, momentum dtype) under this key prefix',
            { where: 'rows.redis.keyPrefix' },
          );
        outBytes.set(v, i * bytes);
        this.stats.keysFound++;
        this.stats.bytesRead += bytes;
      }
    }
    this.stats.keysRead += ids.n;
  }

  async update(slot: string, ids: RowIds, blocks: Int32Array): Promise<void> {
    const S = this.opts.strideOf(slot),
      bytes = S * 4,
      px = Math.round(this.opts.ttlSeconds * 1000);
    this.stats.updates++;
    if (ids.n === 0) return;
    const { keys, groups } = this.keysOf(slot, ids);
    // one copy of the blocks' bytes, sliced per row: the caller may reuse `blocks` once this resolves,
    // while a command retried after a failed call could still be queued in the client
    const copy = Buffer.from(new Uint8Array(blocks.buffer, blocks.byteOffset, ids.n * bytes));
    const value = (i: number) => copy.subarray(i * bytes, (i + 1) * bytes);
    await this.call<unknown>('update', slot, ids.n, groups, (idx) =>
      px > 0
        ? Promise.all(idx.map((i) => this.cluster.set(keys[i], value(i), 'PX', px)))
        : this.cluster.mset(...idx.flatMap((i) => [keys[i], value(i)])),
    );
    this.stats.keysWritten += ids.n;
    this.stats.bytesWritten += ids.n * bytes;
  }

  /**
   * Writes rows `ids` of `slot` merged with what other writers did since `old` was read (merge-rows.ts):
   * `old` and `blocks` [n, stride] words, the rows before and after this trainer's step (old of a row that
   * was absent: its block as admitted). Rows absent in Redis, or unchanged since `old`, get `blocks`.
   * @throws LionctrError LIONCTR_UNAVAILABLE as update(); LIONCTR_INTERNAL without opts.layoutOf.
   */
  async merge(slot: string, ids: RowIds, old: Int32Array, blocks: Int32Array): Promise<void> {
    if (!this.opts.layoutOf)
      throw new LionctrError(
        'LIONCTR_INTERNAL',
        'RedisRowAccess.merge needs the layoutOf option (row width, momentum)',
      );
    const L = this.opts.layoutOf(slot),
      bytes = L.stride * 4,
      px = Math.round(this.opts.ttlSeconds * 1000);
    this.stats.merges++;
    if (ids.n === 0) return;
    const { keys, groups } = this.keysOf(slot, ids);
    const was = Buffer.from(new Uint8Array(old.buffer, old.byteOffset, ids.n * bytes));
    const now = Buffer.from(new Uint8Array(blocks.buffer, blocks.byteOffset, ids.n * bytes));
    const at = (b: Buffer, i: number) => b.subarray(i * bytes, (i + 1) * bytes);
    const head = [L.width, L.momentum === 'bfloat16' ? 'b' : 'f', px];
    const script = this.cluster as unknown as MergeCommand;
    // one key per script call: ioredis's auto-pipelining routes a command by its first argument, so a
    // script's key count is fixed (numberOfKeys: 1); rows spread over the hash slots anyway (row-keys.ts)
    const merged = await this.call('merge', slot, ids.n, groups, (idx) =>
      Promise.all(idx.map((i) => script.lionctrMergeRows(keys[i], ...head, at(was, i), at(now, i)))),
    );
    for (const g of merged) for (const m of g) this.stats.rowsMerged += m;
    this.stats.keysWritten += ids.n;
    this.stats.bytesWritten += 2 * ids.n * bytes;
  }

  /** The keys of `ids` and their indices grouped by hash slot. */
  private keysOf(slot: string, ids: RowIds): { keys: string[]; groups: SlotGroups } {
    const keys: string[] = new Array(ids.n),
      groups: SlotGroups = new Map();
    for (let i = 0; i < ids.n; i++) {
      keys[i] = rowKey(this.opts.keyPrefix, slot, ids.hi[i], ids.lo[i]);
      const h = keySlot(keys[i]);
      const g = groups.get(h);
      if (g) g.push(i);
      else groups.set(h, [i]);
    }
    return { keys, groups };
  }

  /**
   * Sends `send(indices)` for every hash slot group at once (auto-pipelined per node) and waits for
   * all; counts commands and pipelines (distinct master nodes of the groups' hash slots).
   * @throws LionctrError LIONCTR_UNAVAILABLE naming what failed (call, slot, keys, node) or timed out.
   */
  private async call<T>(
    what: 'lookup' | 'update' | 'merge',
    slot: string,
    n: number,
    groups: SlotGroups,
    send: (idx: number[]) => Promise<T>,
  ): Promise<T[]> {
    const nodes = new Set<string>();
    const pending = [...groups].map(([h, idx]) => {
      nodes.add(this.nodeOf(h));
      return send(idx).catch((e: unknown) => {
        throw Object.assign(e instanceof Error ? e : new Error(String(e)), { hashSlot: h });
      });
    });
    this.stats.commands += (this.opts.ttlSeconds > 0 && what === 'update') || what === 'merge' ? n : groups.size;
    this.stats.pipelines += nodes.size;
    let timer: NodeJS.Timeout | undefined;
    try {
      const all = Promise.all(pending);
      if (this.opts.timeoutMs <= 0) return await all;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
      });
      return await Promise.race([all, late]);
    } catch (e) {
      this.stats.failedCalls++;
      for (const p of pending) p.catch(() => {}); // the others' rejections are this one's
      const h = (e as { hashSlot?: number }).hashSlot;
      const node = h === undefined ? `${nodes.size} node(s)` : `node ${this.nodeOf(h)} (hash slot ${h})`;
      throw new LionctrError(
        'LIONCTR_UNAVAILABLE',
        `Redis row store: ${what} of ${n} row(s) of slot "${slot}" (${groups.size} hash slots) failed at ${node}: ` +
          `${(e as Error).message}`,
        { where: 'rows.redis.nodes', cause: e },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** The master node (host:port) that serves hash slot `h` as the client last learnt it ("?" before it knows). */
  private nodeOf(h: number): string {
    return this.cluster.slots[h]?.[0] ?? '?';
  }
}
