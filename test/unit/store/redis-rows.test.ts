/**
 * openRedisRows (src/store/redis/redis-rows.ts): rows.store=local opens nothing; rows.store=redis
 * with the local tables' memory budget or TTL eviction on is refused before any connection
 * (either could remove rows pulled for a step, which the step would then admit afresh and push
 * back over the trained ones).
 */
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { criteoSlots } from '../../../src/features/schema.ts';
import { selectBackend } from '../../../src/model/backend.ts';
import { CtrModel } from '../../../src/model/ctr-model.ts';
import { schemaDefaults } from '../../../src/config/schema.ts';
import { openRedisRows } from '../../../src/store/redis/redis-rows.ts';

const schema = { ...criteoSlots(), embeddingDim: 2 };
const ctx = { logger: pino({ level: 'silent' }), exportDir: null };
const rows = schemaDefaults().rows;

describe('openRedisRows', () => {
  beforeAll(() => selectBackend('auto'));
  it('opens nothing for rows.store=local', async () => {
    const m = new CtrModel(schema, { hidden: [4], initStd: 0.01, seed: 1 });
    expect(await openRedisRows(rows, m, ctx)).toBeNull();
    m.dispose();
  });
  it.each([
    { memoryBudgetBytes: 1 << 26 },
    { maxRowsPerTable: 1000 },
    { eviction: { ttlSeconds: 3600, sweepSeconds: 0 } },
  ])('refuses the local budget or TTL eviction with rows.store=redis: %o', async (extra) => {
    const m = new CtrModel(schema, { hidden: [4], initStd: 0.01, seed: 1, ...extra });
    await expect(openRedisRows({ ...rows, store: 'redis' }, m, ctx)).rejects.toMatchObject({
      code: 'LIONCTR_BAD_CONFIG',
      where: 'rows.store',
    });
    m.dispose();
  });
  it('refuses an export lock without a TTL', async () => {
    const m = new CtrModel(schema, { hidden: [4], initStd: 0.01, seed: 1 });
    const r = { ...rows, store: 'redis' as const, redis: { ...rows.redis, exportLockSeconds: 0 } };
    await expect(openRedisRows(r, m, ctx)).rejects.toMatchObject({
      code: 'LIONCTR_BAD_CONFIG',
      where: 'rows.redis.exportLockSeconds',
    });
    m.dispose();
  });
});
