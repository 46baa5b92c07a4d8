/**
 * The Redis row store of a trainer (rows.store=redis), made from the config: the cluster
 * connected (open-cluster.ts), a RedisRowAccess with the model's row layouts, and the RowSync
 * (src/model/row-sync.ts) that the trainer calls around each step.
 * @module
 */
import type { Logger } from 'pino';
import type { CtrModel } from '../../model/ctr-model.ts';
import { LocalRowAccess, layoutOf } from '../../model/row-access.ts';
import { RowSync } from '../../model/row-sync.ts';
import type { RowsSection } from './config.ts';
import { openCluster } from './open-cluster.ts';
import { RedisRowAccess } from './redis-row-access.ts';

/** A trainer's rows in Redis: the sync the trainer calls, the store (its stats), and close(). */
export interface RedisRows {
  sync: RowSync;
  store: RedisRowAccess;
  /** Disconnects from the cluster (after the last push). */
  close(): void;
}

/**
 * The Redis row store of `model` from the `rows` section, or null when rows.store is local.
 * @throws LionctrError LIONCTR_BAD_CONFIG (a malformed node), LIONCTR_UNAVAILABLE (no cluster).
 */
export async function openRedisRows(rows: RowsSection, model: CtrModel, logger: Logger): Promise<RedisRows | null> {
  if (rows.store !== 'redis') return null;
  const r = rows.redis;
  const cluster = await openCluster(r.nodes, logger);
  const local = LocalRowAccess.of(model);
  const store = new RedisRowAccess(cluster, {
    keyPrefix: r.keyPrefix,
    strideOf: (slot) => layoutOf(local.table(slot)).stride,
    ttlSeconds: r.ttlSeconds,
    timeoutMs: r.commandTimeoutSeconds * 1000,
  });
  logger.info(
    { nodes: r.nodes, keyPrefix: r.keyPrefix, ttlSeconds: r.ttlSeconds, keepLocal: r.keepLocal },
    `embedding rows in the Redis Cluster at ${r.nodes.join(',')} (rows.store=redis)`,
  );
  return { sync: new RowSync(model, store, r.keepLocal), store, close: () => cluster.disconnect() };
}
