/**
 * The Redis Cluster row store (src/store/redis/) against a real cluster of Debian's redis-server
 * (3 masters + 3 replicas, ops/redis/start.sh on ports 17200..17205, a temp data directory):
 *   - rows one trainer (model instance, its own connection) trained are read by another bit for bit,
 *     and the other's updates reach the first; absent rows are not found; rows expire with ttlSeconds;
 *     a row of another size is refused (LIONCTR_BAD_CONFIG);
 *   - training 6 steps through Redis (RowSync, local tables emptied after each step) ends with every
 *     row in Redis equal bit for bit to the same model trained on the local store, and the same tower
 *     (as test/unit/model/row-access.test.ts does with an in-memory store);
 *   - `lionctr train` with rows.store=redis gives the local run's progressive figures and export (every
 *     file of it bit for bit); stopped at half and run again, it resumes from its checkpoint and its
 *     export equals the one of a run without the stop;
 *   - a master killed with SIGKILL: its replica takes over and lookups and updates go on; no row
 *     written before the kill (replicated: WAIT) or acknowledged after it is lost; failed calls are
 *     counted and printed.
 * Skipped with a message when redis-server is absent; under CI=true that fails instead.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Cluster } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { criteoSlots } from '../../src/features/schema.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { CtrModel } from '../../src/model/ctr-model.ts';
import { layoutOf, type RowIds } from '../../src/model/row-access.ts';
import { idHalf } from '../../src/model/row-ids.ts';
import { RowSync } from '../../src/model/row-sync.ts';
import { openCluster } from '../../src/store/redis/open-cluster.ts';
import { RedisRowAccess } from '../../src/store/redis/redis-row-access.ts';
import { keySlot, rowKey } from '../../src/store/redis/row-keys.ts';
import { TrainStep } from '../../src/train/train-step.ts';
import type { OptimConfig } from '../../src/train/optim/optim-config.ts';
import { cleanEnv } from '../helpers/kafka-process.ts';
import { syntheticBatches } from '../helpers/row-access-remote.ts';
import { redisMissing, startCluster, type TestCluster } from '../helpers/redis-cluster.ts';

const ci = process.env.CI === 'true';
const missing = redisMissing();
if (missing && !ci) console.warn(`Redis row store tests skipped: ${missing}`);

const BASE_PORT = 17200;
const BIN = resolve(import.meta.dirname, '../../bin/lionctr.mjs');
const schema = { ...criteoSlots(), embeddingDim: 4 };
const logger = pino({ level: 'silent' });
const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
const optim: OptimConfig = {
  dense: lp(1e-3),
  embedding: lp(3e-3),
  linear: lp(3e-3),
  sparseKernel: 'wasm',
  sparseMode: 'lazy',
};
const makeModel = () => new CtrModel(schema, { hidden: [8], initStd: 0.01, seed: 7, momentumDtype: 'float32' });

const batches = (n: number, size: number) => syntheticBatches(schema, n, size);

/** Every row id of table t of `model`. */
function idsOf(model: CtrModel, f: number): RowIds {
  const t = model.tables[f];
  return { hi: idHalf(t.ids, t.size, 0), lo: idHalf(t.ids, t.size, 1), n: t.size };
}

describe.skipIf(missing !== null && !ci)('Redis Cluster row store (ops/redis, 3 masters + 3 replicas)', () => {
  let cluster: TestCluster | undefined;
  const clients: Cluster[] = [];
  const connect = async () => {
    const c = await openCluster(cluster!.nodes.slice(0, 1), logger);
    clients.push(c);
    return c;
  };
  const storeOf = (c: Cluster, model: CtrModel | null, keyPrefix: string, ttlSeconds = 0) =>
    new RedisRowAccess(c, {
      keyPrefix,
      strideOf: (slot) => (model ? layoutOf(model.tables[model.slots.indexOf(slot)]).stride : 10),
      ttlSeconds,
      timeoutMs: 60_000,
    });

  beforeAll(async () => {
    if (missing) return;
    cluster = startCluster(BASE_PORT);
    await selectBackend('auto');
  }, 60_000);
  afterAll(() => {
    for (const c of clients) c.disconnect();
    cluster?.stop();
  });

  it('redis-server is there (CI installs it)', () => {
    expect(missing).toBeNull();
  });

  it('rows one trainer trained are read by another bit for bit, and the other way', async () => {
    const data = await batches(4, 256);
    const a = makeModel(),
      b = makeModel();
    const storeA = storeOf(await connect(), a, 'share'),
      storeB = storeOf(await connect(), b, 'share');
    const syncA = new RowSync(a, storeA, true),
      stepA = new TrainStep(a, optim);
    for (const batch of data.slice(0, 3)) {
      await syncA.pull(batch);
      stepA.run(batch);
      await syncA.push();
    }
    let rows = 0;
    for (const [f, t] of a.tables.entries()) {
      const ids = idsOf(a, f),
        S = t.rows.stride;
      const out = new Int32Array(ids.n * S),
        found = new Uint8Array(ids.n);
      await storeB.lookup(t.slot, ids, out, found);
      expect(found.every((x) => x === 1)).toBe(true);
      expect(Buffer.from(out.buffer).equals(Buffer.from(t.rows.words.buffer, 0, ids.n * S * 4))).toBe(true);
      rows += ids.n;
    }
    expect(rows).toBeGreaterThan(1000);
    // B trains the 4th batch from A's rows; A (its own connection) reads what B wrote
    const syncB = new RowSync(b, storeB, true);
    await syncB.pull(data[3]);
    new TrainStep(b, optim).run(data[3]);
    await syncB.push();
    const f = 0,
      ids = idsOf(b, f),
      S = b.tables[f].rows.stride;
    const out = new Int32Array(ids.n * S),
      found = new Uint8Array(ids.n);
    await storeA.lookup(b.tables[f].slot, ids, out, found);
    expect([...found]).toEqual(new Array(ids.n).fill(1));
    expect([...out]).toEqual([...b.tables[f].rows.words.subarray(0, ids.n * S)]);
    // absent ids: not found, their words left as they were
    const none = { hi: Uint32Array.of(0xfffffff0), lo: Uint32Array.of(1), n: 1 };
    const untouched = new Int32Array(S).fill(-7),
      nf = Uint8Array.of(9);
    await storeA.lookup('C1', none, untouched, nf);
    expect([nf[0], ...new Set(untouched)]).toEqual([0, -7]);
    a.dispose();
    b.dispose();
  }, 60_000);

  it('rows expire with ttlSeconds (SET PX); a row of another size is refused', async () => {
    const c = await connect();
    const ids = { hi: Uint32Array.of(1, 2), lo: Uint32Array.of(3, 4), n: 2 };
    await storeOf(c, null, 'ttl', 60).update('C1', ids, new Int32Array(20).fill(5));
    await storeOf(c, null, 'nottl').update('C1', ids, new Int32Array(20).fill(5));
    const ttl = await c.pttl(rowKey('ttl', 'C1', 1, 3));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await c.pttl(rowKey('nottl', 'C1', 2, 4))).toBe(-1);
    await c.set(rowKey('odd', 'C1', 1, 3), Buffer.alloc(12));
    await expect(storeOf(c, null, 'odd').lookup('C1', ids, new Int32Array(20), new Uint8Array(2))).rejects.toThrow(
      /row odd:C1:0000000100000003 in Redis has 12 bytes, the model's rows of slot "C1" have 40/,
    );
  });

  it('training through Redis equals training on the local store bit for bit (6 steps)', async () => {
    const data = await batches(6, 256);
    const local = makeModel(),
      remote = makeModel();
    const stepL = new TrainStep(local, optim),
      stepR = new TrainStep(remote, optim);
    const store = storeOf(await connect(), remote, 'same');
    const sync = new RowSync(remote, store, false);
    for (const b of data) {
      stepL.run(b);
      await sync.pull(b);
      stepR.run(b);
      await sync.push();
      expect(remote.tables.every((t) => t.size === 0)).toBe(true);
    }
    let rows = 0,
      differ = 0;
    for (const [f, t] of local.tables.entries()) {
      const ids = idsOf(local, f),
        S = t.rows.stride;
      const out = new Int32Array(ids.n * S),
        found = new Uint8Array(ids.n);
      await store.lookup(t.slot, ids, out, found);
      for (let i = 0; i < ids.n; i++)
        if (!found[i] || out.subarray(i * S, (i + 1) * S).some((w, j) => w !== t.rows.words[i * S + j])) differ++;
      rows += ids.n;
    }
    expect(rows).toBeGreaterThan(1000);
    expect(differ).toBe(0);
    const tower = (m: CtrModel) => m.tower.vars.map((v) => [...(v.dataSync() as Float32Array)]);
    expect(tower(remote)).toEqual(tower(local));
    const F = local.slots.length,
      s = store.stats;
    expect([s.lookups, s.updates, s.failedCalls]).toEqual([6 * F + F, 6 * F, 0]);
    // a call costs one pipeline per master it touches: at most 3
    expect(s.pipelines).toBeLessThanOrEqual(3 * (s.lookups + s.updates));
    local.dispose();
    remote.dispose();
  }, 60_000);

  /** `lionctr train --max-examples n` in `cwd` with a small model and `sets`; its summary and log. */
  const train = (cwd: string, n: number, out: string, ...sets: string[]) => {
    const small = ['model.hidden=[8]', 'schema.embeddingDim=2', 'train.batchSize=256', 'export.gate.enabled=false'];
    const args = ['train', '--max-examples', String(n), '--export-dir', out];
    args.push(...[...small, ...sets].flatMap((x) => ['--set', x]));
    const r = spawnSync('node', [BIN, ...args], { cwd, encoding: 'utf8', env: cleanEnv(), timeout: 90_000 });
    expect(r.status, r.stderr).toBe(0);
    return { summary: JSON.parse(r.stdout), log: r.stderr };
  };
  const redisSets = (prefix: string) => [
    'rows.store=redis',
    `rows.redis.nodes=${cluster!.nodes[1]}`,
    `rows.redis.keyPrefix=${prefix}`,
  ];
  /** The files of the newest export under `root` (manifest.json aside: it holds times), path -> bytes. */
  const exported = (root: string): Map<string, Buffer> => {
    const v = readdirSync(root)
      .filter((d) => /^\d+$/.test(d))
      .sort()
      .at(-1)!;
    const files = readdirSync(join(root, v), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name !== 'manifest.json')
      .map((e) => join(e.parentPath, e.name));
    return new Map(files.map((f) => [f.slice(join(root, v).length), readFileSync(f)]));
  };
  const sameFiles = (a: Map<string, Buffer>, b: Map<string, Buffer>) =>
    [...a.keys()].sort().join() === [...b.keys()].sort().join() && [...a].every(([k, v]) => v.equals(b.get(k)!));

  it('lionctr train with rows.store=redis trains as on the local store: same figures, same export', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'lionctr-redis-cli-'));
    try {
      const local = train(cwd, 4096, 'local');
      const redis = train(cwd, 4096, 'redis', ...redisSets('cli'));
      expect(redis.log).toMatch(/embedding rows in the Redis Cluster at 127\.0\.0\.1:17201/);
      const figures = (s: { progressive: Record<string, unknown> }) => {
        const { auc, logloss, calibration, examples, step } = s.progressive;
        return { auc, logloss, calibration, examples, step };
      };
      expect(figures(redis.summary)).toEqual(figures(local.summary));
      const files = exported(join(cwd, 'local'));
      expect(files.size).toBeGreaterThan(10);
      expect(sameFiles(exported(join(cwd, 'redis')), files)).toBe(true);
      const c = await connect();
      const keys = await Promise.all(c.nodes('master').map((m) => m.keys('cli:*')));
      expect(keys.flat().length).toBeGreaterThan(1000);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 120_000);

  it('a trainer restarted from its checkpoint resumes: its export equals one run without the stop', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'lionctr-redis-resume-'));
    try {
      train(cwd, 4096, 'once', ...redisSets('once'));
      train(cwd, 2048, 'twice', ...redisSets('twice'));
      const again = train(cwd, 4096, 'twice', ...redisSets('twice'));
      expect(again.log).toMatch(/resuming from checkpoint step 8 \(2048 examples trained/);
      expect(again.summary.examples_this_run).toBe(2048);
      expect(sameFiles(exported(join(cwd, 'twice')), exported(join(cwd, 'once')))).toBe(true);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 120_000);

  it('a master killed (SIGKILL) fails over to its replica; lookups and updates go on, no row lost', async () => {
    const c = await connect();
    const store = storeOf(c, null, 'fail'),
      N = 3000,
      S = 10;
    const ids = { hi: new Uint32Array(N), lo: Uint32Array.from({ length: N }, (_, i) => i * 7919), n: N };
    const want = Int32Array.from({ length: N * S }, (_, i) => i);
    await store.update('C1', ids, want);
    // the rows are on the replicas too before the crash (replication is asynchronous)
    await Promise.all(c.nodes('master').map((m) => m.call('WAIT', 1, 5000)));
    const victim = c.slots[keySlot(Buffer.from(rowKey('fail', 'C1', 0, 0)))][0];
    const port = Number(victim.split(':')[1]);
    process.kill(cluster!.pidOf(port), 'SIGKILL');
    const t0 = performance.now();
    let rounds = 0,
      failed = 0,
      slowest = 0,
      lost = 0;
    const out = new Int32Array(N * S),
      found = new Uint8Array(N);
    // rounds of an update of a tenth of the rows and a lookup of all, for 20 s or until 5 rounds after the
    // failover; a failed call is counted and tried again (an update again with the same values)
    while (performance.now() - t0 < 20_000) {
      const r = rounds++,
        part = {
          hi: ids.hi.subarray(0, N / 10),
          lo: ids.lo.subarray((r % 10) * (N / 10), ((r % 10) + 1) * (N / 10)),
          n: N / 10,
        };
      const blocks = Int32Array.from({ length: (N / 10) * S }, (_, i) => r * 1_000_003 + i);
      for (const call of [() => store.update('C1', part, blocks), () => store.lookup('C1', ids, out, found)]) {
        for (;;) {
          const t = performance.now();
          try {
            await call();
            slowest = Math.max(slowest, performance.now() - t);
            break;
          } catch {
            failed++;
          }
        }
      }
      want.set(blocks, (r % 10) * (N / 10) * S);
      lost = found.reduce((n, x) => n + (x ? 0 : 1), 0);
      const wrong = Array.from({ length: N }, (_, i) => i).filter((i) =>
        out.subarray(i * S, (i + 1) * S).some((w, j) => w !== want[i * S + j]),
      ).length;
      expect({ lost, wrong }).toEqual({ lost: 0, wrong: 0 });
      if (rounds >= 5 && !c.nodes('master').some((m) => m.options.port === port)) break;
    }
    const masters = c.nodes('master').map((m) => m.options.port);
    console.log(
      `Redis failover: master ${victim} killed; ${rounds} rounds (${N / 10} rows updated, ${N} looked up each) ` +
        `in ${((performance.now() - t0) / 1000).toFixed(1)} s, slowest call ${(slowest / 1000).toFixed(2)} s, ` +
        `${failed} failed call(s) (tried again), ${store.stats.failedCalls} counted by the store; masters now ` +
        masters.join(','),
    );
    expect(masters).not.toContain(port);
    expect(masters).toHaveLength(3);
    expect(rounds).toBeGreaterThanOrEqual(5);
  }, 60_000);
});
