/**
 * The merged row update (rows.redis.update=merge, src/store/redis/merge-rows.ts) against a real Redis
 * Cluster (ops/redis/start.sh on 17420..17425, a temp data directory):
 *   - the Lua script writes bit for bit what mergeRowBlock (the TypeScript reference) computes, for
 *     rows absent, unchanged since the pull, changed by another writer, and unrelated, in the float32
 *     and bfloat16 layouts (a padding half included), update counts near saturation included;
 *   - two model instances (two trainers, each its own connection) pull the same rows, both step, both
 *     push: every row both stepped holds both steps (its weights moved by the sum of both changes,
 *     within float32 rounding, and bit for bit the reference), where an overwrite keeps the later one;
 *   - one trainer alone with merge writes what it writes with overwrite, bit for bit.
 * Skipped with a message when redis-server is absent; under CI=true that fails instead.
 */
import type { Cluster } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeatureBatch } from '../../src/features/feature-batch.ts';
import { criteoSlots } from '../../src/features/schema.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { CtrModel } from '../../src/model/ctr-model.ts';
import { EmbeddingTable } from '../../src/model/embedding-table.ts';
import { layoutOf, LocalRowAccess, type RowIds, type RowLayout } from '../../src/model/row-access.ts';
import { RowSync, type RowUpdateMode } from '../../src/model/row-sync.ts';
import { toBf16 } from '../../src/model/weight-dtype.ts';
import { mergeRowBlock, strideOfLayout } from '../../src/store/redis/merge-rows.ts';
import { openCluster } from '../../src/store/redis/open-cluster.ts';
import { RedisRowAccess } from '../../src/store/redis/redis-row-access.ts';
import { rowKey } from '../../src/store/redis/row-keys.ts';
import { TrainStep } from '../../src/train/train-step.ts';
import type { OptimConfig } from '../../src/train/optim/optim-config.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { syntheticBatches } from '../helpers/row-access-remote.ts';
import { redisMissing, startCluster, type TestCluster } from '../helpers/redis-cluster.ts';

const ci = process.env.CI === 'true';
const missing = redisMissing();
if (missing && !ci) console.warn(`Redis merge tests skipped: ${missing}`);

const BASE_PORT = 17420;
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
const makeModel = (momentumDtype: 'float32' | 'bfloat16') =>
  new CtrModel(schema, { hidden: [8], initStd: 0.01, seed: 7, momentumDtype });

describe.skipIf(missing !== null && !ci)('merged row updates in a Redis Cluster (ops/redis)', () => {
  let cluster: TestCluster | undefined;
  const clients: Cluster[] = [];
  const connect = async () => {
    const c = await openCluster(cluster!.nodes.slice(0, 1), logger);
    clients.push(c);
    return c;
  };
  const storeOf = (c: Cluster, layouts: (slot: string) => RowLayout, keyPrefix: string) =>
    new RedisRowAccess(c, {
      keyPrefix,
      strideOf: (slot) => layouts(slot).stride,
      layoutOf: layouts,
      ttlSeconds: 0,
      timeoutMs: 60_000,
    });
  const modelStore = async (m: CtrModel, prefix: string) =>
    storeOf(await connect(), (slot) => layoutOf(m.tables[m.slots.indexOf(slot)]), prefix);

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

  it('the Lua script writes what mergeRowBlock computes, bit for bit (float32 and bfloat16 layouts)', async () => {
    const c = await connect();
    const layouts: Record<string, RowLayout> = {};
    for (const [slot, W, momentum] of [
      ['f5', 5, 'float32'],
      ['b17', 17, 'bfloat16'],
      ['b4', 4, 'bfloat16'], // a padding half after the count
    ] as const)
      layouts[slot] = { width: W, momentum, stride: strideOfLayout(W, momentum) };
    const store = storeOf(c, (s) => layouts[s], 'lua');
    const rand = mulberry32(11);
    const gauss = () => (rand() + rand() + rand() + rand() - 2) * 0.05;
    let merged = 0;
    for (const [slot, L] of Object.entries(layouts)) {
      const n = 400,
        S = L.stride,
        W = L.width,
        bf = L.momentum === 'bfloat16';
      const old = new Int32Array(n * S),
        next = new Int32Array(n * S),
        cur = new Int32Array(n * S);
      const fill = (blk: Int32Array, base: Int32Array | null, step: number) => {
        const f = new Float32Array(blk.buffer, blk.byteOffset, S),
          h = new Uint16Array(blk.buffer, blk.byteOffset, 2 * S);
        const bf0 = base && new Float32Array(base.buffer, base.byteOffset, S),
          bh0 = base && new Uint16Array(base.buffer, base.byteOffset, 2 * S);
        const nw = bf ? W : 2 * W;
        for (let j = 0; j < nw; j++) f[j] = (bf0 ? bf0[j] : 0) + (bf0 ? step * (rand() < 0.5 ? -1 : 1) : gauss());
        if (bf) {
          for (let j = 0; j < W; j++) h[2 * W + j] = toBf16((bh0 ? 0 : gauss()) + (bf0 ? gauss() * 0.1 : 0));
          h[3 * W] = bh0 ? Math.min(0xffff, bh0[3 * W] + 1) : rand() < 0.3 ? 0xffff - 1 : Math.floor(rand() * 9);
          for (let j = 3 * W + 1; j < 2 * (S - 1); j++) h[j] = Math.floor(rand() * 0x10000); // padding
          blk[S - 1] = (base ? base[S - 1] : 0) + 1 + Math.floor(rand() * 5);
        } else {
          blk[2 * W] = (base ? base[2 * W] : 0) + 1 + Math.floor(rand() * 5);
          blk[2 * W + 1] = (base ? base[2 * W + 1] : 0) + 1;
        }
      };
      const ids: RowIds = { hi: new Uint32Array(n), lo: new Uint32Array(n), n };
      const states: ('absent' | 'old' | 'moved' | 'other')[] = [];
      for (let i = 0; i < n; i++) {
        ids.hi[i] = i;
        ids.lo[i] = 7;
        const o = old.subarray(i * S, (i + 1) * S);
        fill(o, null, 0);
        fill(next.subarray(i * S, (i + 1) * S), o, 3e-3);
        const state = (['absent', 'old', 'moved', 'moved', 'other'] as const)[i % 5];
        states.push(state);
        if (state === 'old') cur.set(o, i * S);
        else if (state === 'moved') fill(cur.subarray(i * S, (i + 1) * S), o, 3e-3);
        else if (state === 'other') fill(cur.subarray(i * S, (i + 1) * S), null, 0);
        if (state !== 'absent')
          await c.set(rowKey('lua', slot, i, 7), Buffer.from(cur.buffer, cur.byteOffset + i * S * 4, S * 4));
      }
      const before = store.stats.rowsMerged;
      await store.merge(slot, ids, old, next);
      merged += store.stats.rowsMerged - before;
      for (let i = 0; i < n; i++) {
        const got = await c.getBuffer(rowKey('lua', slot, i, 7));
        const want = mergeRowBlock(
          states[i] === 'absent' ? null : cur.subarray(i * S, (i + 1) * S),
          old.subarray(i * S, (i + 1) * S),
          next.subarray(i * S, (i + 1) * S),
          W,
          L.momentum,
        );
        expect(got, `${slot} row ${i} (${states[i]})`).not.toBeNull();
        const words = new Int32Array(new Uint8Array(got!).buffer);
        expect([...words], `${slot} row ${i} (${states[i]})`).toEqual([...want]);
      }
    }
    // 3 of 5 rows of each slot had another writer's change or another value: merged, the others replaced
    expect(merged).toBe(3 * 240);
  });

  /** Two trainers pull the same rows, step on their own batches, push A then B; per shared id: old, A's, B's. */
  async function twoTrainers(update: RowUpdateMode, momentum: 'float32' | 'bfloat16', prefix: string) {
    const data = await syntheticBatches(schema, 3, 256);
    const a = makeModel(momentum),
      b = makeModel(momentum);
    const storeA = await modelStore(a, prefix),
      storeB = await modelStore(b, prefix);
    const syncA = new RowSync(a, storeA, true, update),
      syncB = new RowSync(b, storeB, true, update);
    const stepA = new TrainStep(a, optim),
      stepB = new TrainStep(b, optim);
    await syncA.pull(data[0]); // rows in Redis to start from
    stepA.run(data[0]);
    await syncA.push();
    await Promise.all([syncA.pull(data[1]), syncB.pull(data[2])]);
    // the rows both will step (ids of both batches), as pulled from Redis or as admitted
    const shared = a.tables.map((t, f) => {
      const S = t.rows.stride,
        ids = commonIds(data[1], data[2], f, a.slots.length);
      const old = new Int32Array(ids.n * S),
        found = new Uint8Array(ids.n);
      LocalRowAccess.of(a).lookup(t.slot, ids, old, found);
      for (let i = 0; i < ids.n; i++) if (!found[i]) old.set(admitted(t, ids.hi[i], ids.lo[i]), i * S);
      return { ids, old, S };
    });
    stepA.run(data[1]);
    stepB.run(data[2]);
    const after = (m: CtrModel, f: number) => {
      const { ids, S } = shared[f],
        out = new Int32Array(ids.n * S);
      LocalRowAccess.of(m).lookup(m.tables[f].slot, ids, out, new Uint8Array(ids.n));
      return out;
    };
    const newA = shared.map((_, f) => after(a, f)),
      newB = shared.map((_, f) => after(b, f));
    await syncA.push();
    await syncB.push();
    const inRedis = await Promise.all(
      shared.map(async ({ ids, S }, f) => {
        const out = new Int32Array(ids.n * S);
        await storeA.lookup(a.tables[f].slot, ids, out, new Uint8Array(ids.n));
        return out;
      }),
    );
    return { a, shared, newA, newB, inRedis, merged: storeB.stats.rowsMerged };
  }

  it('two trainers step the same rows at once: each row holds both steps (bfloat16 momentum)', async () => {
    const r = await twoTrainers('merge', 'bfloat16', 'two');
    let rows = 0,
      both = 0;
    for (const [f, { ids, old, S }] of r.shared.entries()) {
      const W = r.a.tables[f].width;
      for (let i = 0; i < ids.n; i++) {
        const at = (x: Int32Array) => x.subarray(i * S, (i + 1) * S);
        const want = mergeRowBlock(at(r.newA[f]), at(old), at(r.newB[f]), W, 'bfloat16');
        expect([...at(r.inRedis[f])]).toEqual([...want]);
        const w = (x: Int32Array) => new Float32Array(x.buffer, x.byteOffset + i * S * 4, W);
        const [o, ea, eb, got] = [old, r.newA[f], r.newB[f], r.inRedis[f]].map(w);
        for (let j = 0; j < W; j++) {
          const dA = ea[j] - o[j],
            dB = eb[j] - o[j];
          expect(Math.abs(got[j] - (o[j] + dA + dB))).toBeLessThanOrEqual(2 ** -24 * Math.abs(got[j]) + 1e-12);
          if (j === 1 && dA !== 0 && dB !== 0) both++;
        }
        rows++;
      }
    }
    expect(rows).toBeGreaterThan(100);
    expect(both).toBeGreaterThan(100);
    expect(r.merged).toBe(rows); // every shared row B pushed had A's step in it already
  });

  it('with overwrite the later push replaces the earlier one (what merge fixes)', async () => {
    const r = await twoTrainers('overwrite', 'float32', 'over');
    let lost = 0;
    for (const [f, { ids, S }] of r.shared.entries()) {
      expect([...r.inRedis[f]]).toEqual([...r.newB[f]]);
      for (let i = 0; i < ids.n; i++) if (r.newA[f][i * S + 1] !== r.inRedis[f][i * S + 1]) lost++;
    }
    expect(lost).toBeGreaterThan(100);
  });

  it('one trainer alone: merge writes bit for bit what overwrite writes', async () => {
    const data = await syntheticBatches(schema, 4, 256);
    const rows: Buffer[][] = [];
    for (const update of ['merge', 'overwrite'] as const) {
      const m = makeModel('bfloat16'),
        store = await modelStore(m, `alone-${update}`);
      const sync = new RowSync(m, store, false, update),
        step = new TrainStep(m, optim);
      for (const batch of data) {
        await sync.pull(batch);
        step.run(batch);
        await sync.push();
      }
      const F = m.slots.length;
      rows.push(
        await Promise.all(
          m.tables.map(async (t, f) => {
            const ids = commonIds(data[0], data[3], f, F), // ids of the first batch trained again in the last
              out = new Int32Array(ids.n * t.rows.stride);
            await store.lookup(t.slot, ids, out, new Uint8Array(ids.n));
            return Buffer.from(out.buffer);
          }),
        ),
      );
      expect(store.stats.rowsMerged).toBe(0);
    }
    expect(rows[0].reduce((n, b) => n + b.length, 0)).toBeGreaterThan(1000);
    for (let f = 0; f < rows[0].length; f++) expect(rows[0][f].equals(rows[1][f])).toBe(true);
  });
});

/** The ids of slot f (of F) in both batches (each once). */
function commonIds(x: FeatureBatch, y: FeatureBatch, f: number, F: number): RowIds {
  const inY = new Set<string>();
  for (let b = 0; b < y.size; b++) inY.add(`${y.idHi[b * F + f]}:${y.idLo[b * F + f]}`);
  const hi: number[] = [],
    lo: number[] = [],
    seen = new Set<string>();
  for (let b = 0; b < x.size; b++) {
    const k = `${x.idHi[b * F + f]}:${x.idLo[b * F + f]}`;
    if (!inY.has(k) || seen.has(k)) continue;
    seen.add(k);
    hi.push(x.idHi[b * F + f]);
    lo.push(x.idLo[b * F + f]);
  }
  return { hi: Uint32Array.from(hi), lo: Uint32Array.from(lo), n: hi.length };
}

/** The block of id (hi, lo) as table t admits it (init from the id, zero momentum). */
function admitted(t: EmbeddingTable, hi: number, lo: number): Int32Array {
  const s = new EmbeddingTable('', t.dim, { initStd: t.initStd, initialCapacity: 16, momentumDtype: t.rows.dtype });
  const r = s.findOrAdmit(hi, lo);
  return s.rows.wordsOf(r).slice(s.rows.at(r), s.rows.at(r) + t.rows.stride);
}
