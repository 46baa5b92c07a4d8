/**
 * Connects the Redis Cluster of the row store (rows.redis.nodes) with ioredis, with the settings
 * that carry a trainer through a failover: commands queue while the client re-learns the
 * cluster's slots, CLUSTERDOWN and TRYAGAIN answers are retried for about the node timeout of
 * ops/redis (2 s) several times over, and reads go to masters (a replica may lag its master).
 * Client errors (a node down) are logged, not thrown: the calls that fail say so themselves.
 *
 * ioredis is imported here, when a cluster is opened, never statically: loading it slows the
 * string code of the whole process (Node 20's V8 11.3). Its resp/verbatim-string.js declares `class
 * VerbatimString extends String`, which makes String.prototype the prototype of another object;
 * from then on TurboFan no longer inlines String.prototype's methods (charCodeAt, startsWith,
 * slice). Measured in one process before and after such a class: a charCodeAt loop over 7.6 KB
 * 11 -> 68 µs, startsWith 19 -> 76 µs; in `lionctr serve`, which loaded ioredis through the
 * command tree, the predict fast path's scan of a 16-instance body took ~90 µs instead of 15.
 * test/unit/store/lazy-ioredis.test.ts checks that the command tree does not load it.
 * @module
 */
import type { Cluster } from 'ioredis';
import type { Logger } from 'pino';
import { LionctrError } from '../../errors.ts';

/** `host:port` strings as ioredis startup nodes. @throws LionctrError LIONCTR_BAD_CONFIG on a malformed one. */
export function parseNodes(nodes: readonly string[]): { host: string; port: number }[] {
  if (nodes.length === 0)
    throw new LionctrError('LIONCTR_BAD_CONFIG', 'no Redis nodes given', { where: 'rows.redis.nodes' });
  return nodes.map((s) => {
    const m = /^(.+):(\d{1,5})$/.exec(s.trim());
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535)
      throw new LionctrError('LIONCTR_BAD_CONFIG', `Redis node ${JSON.stringify(s)} is not host:port`, {
        where: 'rows.redis.nodes',
      });
    return { host: m[1], port };
  });
}

/**
 * A connected ioredis Cluster of `nodes` (ready: it knows every hash slot's master).
 * @throws LionctrError LIONCTR_BAD_CONFIG for a malformed node; LIONCTR_UNAVAILABLE when none
 *   answers, or the cluster is not ready, within `connectTimeoutMs`.
 */
export async function openCluster(
  nodes: readonly string[],
  logger: Logger,
  connectTimeoutMs = 10_000,
): Promise<Cluster> {
  const startup = parseNodes(nodes);
  const { Cluster: ClusterClient } = await import('ioredis');
  const cluster = new ClusterClient(startup, {
    lazyConnect: true,
    enableAutoPipelining: true,
    scaleReads: 'master',
    enableOfflineQueue: true,
    maxRedirections: 64,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 200,
    slotsRefreshTimeout: 2000,
    clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    redisOptions: { connectTimeout: 2000, maxRetriesPerRequest: 20 },
  });
  let lastError = '';
  cluster.on('error', (e: Error) => {
    lastError = e.message;
    logger.warn({ err: e.message }, 'Redis row store: client error');
  });
  cluster.on('node error', (e: Error, node: string) =>
    logger.warn({ err: e.message, node }, 'Redis row store: node error'),
  );
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      cluster.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not ready within ${connectTimeoutMs} ms`)), connectTimeoutMs);
      }),
    ]);
  } catch (e) {
    cluster.disconnect();
    throw new LionctrError(
      'LIONCTR_UNAVAILABLE',
      `Redis Cluster at ${nodes.join(',')} cannot be reached: ${(e as Error).message}` +
        `${lastError ? ` (${lastError})` : ''}; start one with ops/redis/start.sh`,
      { where: 'rows.redis.nodes', cause: e },
    );
  } finally {
    clearTimeout(timer);
  }
  return cluster;
}
