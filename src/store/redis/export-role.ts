/**
 * The export role of a trainer on shared rows (rows.store=redis): it may export only while it holds
 * the export lock (export-lock.ts), and its exports hold every row in Redis (export-rows.ts), brought
 * into its local tables for the write and (unless rows.redis.keepLocal) dropped after it.
 * @module
 */
import type { Cluster } from 'ioredis';
import type { Logger } from 'pino';
import type { CtrModel } from '../../model/ctr-model.ts';
import type { ExportRole } from '../../train/trainer-options.ts';
import type { ExportLock } from './export-lock.ts';
import { dropRows, refreshAllRows } from './export-rows.ts';
import type { RedisRowAccess } from './redis-row-access.ts';

/** What a RedisExportRole works with. */
export interface RedisExportRoleParts {
  cluster: Cluster;
  store: RedisRowAccess;
  model: CtrModel;
  lock: ExportLock;
  keyPrefix: string;
  keepLocal: boolean;
  logger: Logger;
}

/** ExportRole of a trainer on shared rows (see the module doc). */
export class RedisExportRole implements ExportRole {
  constructor(private readonly p: RedisExportRoleParts) {}

  get held(): boolean {
    return this.p.lock.held;
  }

  /**
   * Every shared row into the local tables, then `write()`, then the rows brought in dropped again
   * unless keepLocal (also when the write throws).
   * @throws what refreshAllRows and `write` throw.
   */
  async around<T>(write: () => Promise<T>): Promise<T> {
    const { cluster, store, model, keyPrefix, keepLocal, logger } = this.p;
    const t0 = performance.now();
    const brought = await refreshAllRows(cluster, store, model, keyPrefix);
    const ms = performance.now() - t0;
    logger.info(
      { rows: brought.rows, keysScanned: brought.keys, ms: Math.round(ms) },
      `export: ${brought.rows} rows read from Redis (${(ms / 1000).toFixed(2)} s), the export holds every shared row`,
    );
    try {
      return await write();
    } finally {
      if (!keepLocal) dropRows(model, brought);
    }
  }
}
