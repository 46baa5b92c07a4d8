/**
 * Connecting the Redis row store (src/store/redis/open-cluster.ts) fails the way a trainer's
 * start-up should: a malformed node is a config error naming rows.redis.nodes, and no cluster at
 * the nodes (a closed loopback port) is LIONCTR_UNAVAILABLE within the connect timeout, saying
 * where and how to start one.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { openCluster, parseNodes } from '../../../src/store/redis/open-cluster.ts';

describe('openCluster', () => {
  it('parses host:port nodes and refuses others (LIONCTR_BAD_CONFIG)', () => {
    expect(parseNodes(['127.0.0.1:17000', ' redis-a:7000 '])).toEqual([
      { host: '127.0.0.1', port: 17000 },
      { host: 'redis-a', port: 7000 },
    ]);
    for (const bad of [[], ['127.0.0.1'], ['h:0'], ['h:70000']])
      expect(() => parseNodes(bad)).toThrow(
        expect.objectContaining({ code: 'LIONCTR_BAD_CONFIG', where: 'rows.redis.nodes' }),
      );
  });

  it('no cluster there: LIONCTR_UNAVAILABLE within the connect timeout', async () => {
    const t0 = performance.now();
    const err = await openCluster(['127.0.0.1:1'], pino({ level: 'silent' }), 1500).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LIONCTR_UNAVAILABLE', where: 'rows.redis.nodes' });
    expect((err as Error).message).toMatch(
      /Redis Cluster at 127\.0\.0\.1:1 cannot be reached: .*ops\/redis\/start\.sh/,
    );
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
