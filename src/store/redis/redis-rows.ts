/**
 * The Redis row store of a trainer (rows.store=redis), made from the config: the cluster
 * connected (open-cluster.ts), a RedisRowAccess with the model's row layouts, the RowSync
 * (src/model/row-sync.ts) that the trainer calls around each step, followed every
 * rows.redis.denseSyncSteps steps by the tower averaging (dense-sync.ts), and, for a trainer with an
 * export dir, its export role (export-role.ts: the export lock, exports of every shared row).
 * @module
 */
import type { Logger } from 'pino';
import type { FeatureBatch } from '../../features/feature-batch.ts';
import { LionctrError } from '../../errors.ts';
import type { CtrModel } from '../../model/ctr-model.ts';
import { LocalRowAccess, layoutOf } from '../../model/row-access.ts';
import { RowSync } from '../../model/row-sync.ts';
import type { ExportRole } from '../../train/trainer-options.ts';
import type { RowsSection } from './config.ts';
import { DenseSync } from './dense-sync.ts';
import { ExportLock } from './export-lock.ts';
import { RedisExportRole } from './export-role.ts';
import { openCluster } from './open-cluster.ts';
import { RedisRowAccess } from './redis-row-access.ts';

/** A trainer's rows in Redis: the sync the trainer calls, the store (its stats), the export role, and close(). */
export interface RedisRows {
  /** Around each step: the rows pulled and pushed, then every denseSyncSteps the tower averaged. */
  sync: Pick<RowSync, 'pull' | 'push'>;
  /** The tower averaging (null: rows.redis.denseSyncSteps = 0). */
  dense: DenseSync | null;
  store: RedisRowAccess;
  /** Who writes exports (null: a trainer without an export dir takes no lock). */
  role: ExportRole | null;
  /** Releases the export lock (when held) and disconnects from the cluster (after the last push). Never throws. */
  close(): Promise<void>;
}

/** What openRedisRows needs besides the rows section and the model. */
export interface RedisRowsContext {
  logger: Logger;
  /** The trainer's export dir: with one it competes for the export lock. */
  exportDir: string | null;
  /** Called when the export lock is taken (true) or lost or released (false): the metric. */
  onLockChange?: (held: boolean) => void;
}

/**
 * The Redis row store of `model` from the `rows` section, or null when rows.store is local.
 * Refused with the local tables' memory budget or TTL eviction on: either removes rows of the
 * tables before a step (row-budget.ts, eviction.ts), which could be rows just pulled for it, which
 * the step would then admit afresh and push back over the trained ones.
 * @throws LionctrError LIONCTR_BAD_CONFIG (a malformed node; the budget or TTL eviction on),
 *   LIONCTR_UNAVAILABLE (no cluster).
 */
export async function openRedisRows(
  rows: RowsSection,
  model: CtrModel,
  ctx: RedisRowsContext,
): Promise<RedisRows | null> {
  if (rows.store !== 'redis') return null;
  const logger = ctx.logger;
  if (model.budget.active || model.eviction.active)
    throw new LionctrError(
      'LIONCTR_BAD_CONFIG',
      "rows.store=redis does not work with the local tables' memory budget or TTL eviction yet " +
        '(model.memoryBudgetBytes, model.maxRowsPerTable, model.eviction.ttlSeconds: they could drop rows pulled ' +
        'for a step); bound the rows with rows.redis.ttlSeconds and the local tables with rows.redis.keepLocal=false',
      { where: 'rows.store' },
    );
  const r = rows.redis;
  if (!(r.exportLockSeconds > 0))
    throw new LionctrError('LIONCTR_BAD_CONFIG', 'the export lock needs a TTL > 0 s', {
      where: 'rows.redis.exportLockSeconds',
    });
  if (r.denseSyncSteps > 0 && !(r.denseStaleSeconds > 0))
    throw new LionctrError('LIONCTR_BAD_CONFIG', 'dense averaging needs denseStaleSeconds > 0', {
      where: 'rows.redis.denseStaleSeconds',
    });
  const cluster = await openCluster(r.nodes, logger);
  const local = LocalRowAccess.of(model);
  const store = new RedisRowAccess(cluster, {
    keyPrefix: r.keyPrefix,
    strideOf: (slot) => layoutOf(local.table(slot)).stride,
    layoutOf: (slot) => layoutOf(local.table(slot)),
    ttlSeconds: r.ttlSeconds,
    timeoutMs: r.commandTimeoutSeconds * 1000,
  });
  logger.info(
    { nodes: r.nodes, keyPrefix: r.keyPrefix, ttlSeconds: r.ttlSeconds, keepLocal: r.keepLocal, update: r.update },
    `embedding rows in the Redis Cluster at ${r.nodes.join(',')} (rows.store=redis)`,
  );
  const lock = ctx.exportDir
    ? new ExportLock(cluster, {
        keyPrefix: r.keyPrefix,
        ttlMs: r.exportLockSeconds * 1000,
        logger,
        onChange: ctx.onLockChange,
      })
    : null;
  if (lock && !(await lock.start()))
    logger.info({ key: lock.key }, 'another trainer holds the export lock: this one exports when it gets it');
  const role = lock
    ? new RedisExportRole({ cluster, store, model, lock, keyPrefix: r.keyPrefix, keepLocal: r.keepLocal, logger })
    : null;
  const rowSync = new RowSync(model, store, r.keepLocal, r.update);
  const dense =
    r.denseSyncSteps > 0
      ? new DenseSync(cluster, model.tower.vars, {
          keyPrefix: r.keyPrefix,
          everySteps: r.denseSyncSteps,
          mode: r.denseMode,
          staleMs: r.denseStaleSeconds * 1000,
          timeoutMs: r.commandTimeoutSeconds * 1000,
          logger,
        })
      : null;
  let pulls = 0;
  const sync = {
    pull: async (batch: FeatureBatch) => {
      // before the first step (a checkpoint restored by now): the tower this trainer starts from (denseMode sum)
      if (pulls === 0) await dense?.begin();
      await rowSync.pull(batch);
      // the first pull's rows found were written by other trainers of the prefix (or an earlier run)
      if (pulls++ === 0)
        logger.info(store.stats, `first pull: ${store.stats.keysFound} of ${store.stats.keysRead} rows found in Redis`);
    },
    push: async () => {
      await rowSync.push();
      await dense?.afterStep();
    },
  };
  const close = async () => {
    await Promise.all([lock?.release(), dense?.leave()]);
    cluster.disconnect();
    const s = store.stats;
    logger.info(
      { ...s, denseSyncs: dense?.syncs ?? 0 },
      `Redis row store: ${s.keysFound} of ${s.keysRead} rows looked up were found, ${s.keysWritten} written`,
    );
  };
  return { sync, dense, store, role, close };
}
