/**
 * Training with the rows in a Redis Cluster (rows.store=redis) against the local store, in one run, interleaved:
 * each round trains a fresh model for --batches steps of synthetic Criteo-shaped batches on the local store, then
 * a fresh one through RowSync + RedisRowAccess (rows pulled before each step, pushed after it; a key prefix of its
 * own per round), and prints examples/s of both and their ratio (median over rounds). For the Redis runs it prints
 * per batch: store calls (lookups + updates; all slots' lookups in flight together, then all updates: 2 waves),
 * (call, node) pairs (ioredis's auto-pipelining sends a wave's commands to a node in one pipeline: about 2 x 3
 * round trips a batch), the time in pull, step and push, rows looked up and written, and the bytes on the wire
 * from the masters' INFO stats (total_net_input_bytes and total_net_output_bytes, client -> Redis and back,
 * replication to the replicas not included), per row moved (a row read plus a row written count as 2), next to the
 * value bytes of a row (stride * 4). Needs a cluster: ops/redis/start.sh (default nodes 127.0.0.1:17000). The
 * bench's keys are deleted at the end.
 *
 *   npx tsx bench/redis-rows.ts [--nodes 127.0.0.1:17000] [--batches 40] [--batch-size 1024] [--dim 16]
 *     [--rounds 3] [--momentum bfloat16|float32]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Cluster } from 'ioredis';
import pino from 'pino';
import { Featurizer } from '../src/features/featurizer.ts';
import type { FeatureBatch } from '../src/features/feature-batch.ts';
import { criteoSlots } from '../src/features/schema.ts';
import { createSyntheticSource } from '../src/ingest/synthetic-source.ts';
import { selectBackend } from '../src/model/backend.ts';
import { CtrModel } from '../src/model/ctr-model.ts';
import { layoutOf } from '../src/model/row-access.ts';
import { RowSync } from '../src/model/row-sync.ts';
import { openCluster } from '../src/store/redis/open-cluster.ts';
import { RedisRowAccess } from '../src/store/redis/redis-row-access.ts';
import { TrainStep } from '../src/train/train-step.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '127.0.0.1:17000' },
    batches: { type: 'string', default: '40' },
    'batch-size': { type: 'string', default: '1024' },
    dim: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    momentum: { type: 'string', default: 'bfloat16' },
    help: { type: 'boolean' },
  },
});
const usage =
  'usage: npx tsx bench/redis-rows.ts [--nodes 127.0.0.1:17000] [--batches 40] [--batch-size 1024] [--dim 16]' +
  ' [--rounds 3] [--momentum bfloat16|float32]';
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const N = Number(values.batches),
  B = Number(values['batch-size']),
  D = Number(values.dim),
  R = Number(values.rounds),
  momentum = values.momentum as 'bfloat16' | 'float32';
if (![N, B, D, R].every((v) => Number.isInteger(v) && v >= 1) || !['bfloat16', 'float32'].includes(momentum)) {
  console.error(`bench/redis-rows: batches, batch-size, dim, rounds take whole numbers >= 1\n${usage}`);
  process.exit(2);
}
const schema = { ...criteoSlots(), embeddingDim: D };
const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
const optim = {
  dense: lp(1e-3),
  embedding: lp(3e-3),
  linear: lp(3e-3),
  sparseKernel: 'wasm',
  sparseMode: 'lazy',
} as const;
const makeModel = () => new CtrModel(schema, { hidden: [256, 128], initStd: 0.01, seed: 1, momentumDtype: momentum });
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1];

async function batches(): Promise<FeatureBatch[]> {
  const fz = new Featurizer(schema),
    out: FeatureBatch[] = [];
  for await (const rb of createSyntheticSource({ seed: 5, limit: N * B }).batches({ batchSize: B }))
    out.push(fz.fromRecordBatch(rb));
  return out;
}

/** Bytes in and out of the cluster's masters so far (INFO stats). */
async function wireBytes(c: Cluster): Promise<{ in: number; out: number }> {
  const infos = await Promise.all(c.nodes('master').map((m) => m.info('stats')));
  const sum = (field: string) =>
    infos.reduce((s, text) => s + Number(new RegExp(`${field}:(\\d+)`).exec(text)?.[1] ?? 0), 0);
  return { in: sum('total_net_input_bytes'), out: sum('total_net_output_bytes') };
}

async function deleteKeys(c: Cluster, pattern: string): Promise<number> {
  let n = 0;
  for (const m of c.nodes('master')) {
    const keys = await m.keys(pattern);
    for (let i = 0; i < keys.length; i += 500) await Promise.all(keys.slice(i, i + 500).map((k) => m.unlink(k)));
    n += keys.length;
  }
  return n;
}

await selectBackend('auto');
const data = await batches();
const cluster = await openCluster(values.nodes.split(','), pino({ level: 'warn' }));
const la = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
console.log(`load average ${la()}; ${N} batches of ${B}, dim ${D}, momentum ${momentum}, nodes ${values.nodes}`);
console.log('round | local ex/s | redis ex/s | redis/local');
const ratios: number[] = [],
  local: number[] = [],
  redis: number[] = [];
let last:
  | { stats: RedisRowAccess['stats']; wire: { in: number; out: number }; stride: number; split: Record<string, number> }
  | undefined;
const prefix = `bench-redis-rows:${process.pid}`;
for (let r = 0; r < R; r++) {
  const m1 = makeModel(),
    s1 = new TrainStep(m1, optim);
  let t0 = performance.now();
  for (const b of data) s1.run(b);
  const exL = (N * B) / ((performance.now() - t0) / 1000);
  m1.dispose();
  const m2 = makeModel(),
    s2 = new TrainStep(m2, optim);
  const store = new RedisRowAccess(cluster, {
    keyPrefix: `${prefix}:${r}`,
    strideOf: (slot) => layoutOf(m2.tables[m2.slots.indexOf(slot)]).stride,
    ttlSeconds: 0,
    timeoutMs: 60_000,
  });
  const sync = new RowSync(m2, store, true);
  const w0 = await wireBytes(cluster);
  t0 = performance.now();
  const split = { pull: 0, step: 0, push: 0 };
  for (const b of data) {
    let t = performance.now();
    await sync.pull(b);
    split.pull += performance.now() - t;
    t = performance.now();
    s2.run(b);
    split.step += performance.now() - t;
    t = performance.now();
    await sync.push();
    split.push += performance.now() - t;
  }
  const exR = (N * B) / ((performance.now() - t0) / 1000);
  const w1 = await wireBytes(cluster);
  last = {
    stats: { ...store.stats },
    wire: { in: w1.in - w0.in, out: w1.out - w0.out },
    stride: m2.tables[0].rows.stride,
    split,
  };
  m2.dispose();
  local.push(exL);
  redis.push(exR);
  ratios.push(exR / exL);
  console.log(`${r} | ${exL.toFixed(0)} | ${exR.toFixed(0)} | ${(exR / exL).toFixed(3)}`);
}
console.log(
  `median: local ${median(local).toFixed(0)} ex/s, redis ${median(redis).toFixed(0)} ex/s, ` +
    `redis/local ${median(ratios).toFixed(3)} (load average ${la()})`,
);
if (last) {
  const s = last.stats,
    rows = s.keysRead + s.keysWritten;
  console.log(
    `per batch (last round): ${((s.lookups + s.updates) / N).toFixed(0)} store calls (2 waves: lookups, updates), ` +
      `${(s.pipelines / N).toFixed(1)} (call, node) pairs (a wave: one pipeline per node), ` +
      `${(s.commands / N).toFixed(0)} commands, ` +
      `${(s.keysRead / N).toFixed(0)} rows looked up (${((100 * s.keysFound) / Math.max(1, s.keysRead)).toFixed(0)}% ` +
      `found), ${(s.keysWritten / N).toFixed(0)} written`,
  );
  const ms = (x: number) => (x / N).toFixed(1);
  const { pull, step, push } = last.split;
  console.log(`ms per batch: pull ${ms(pull)}, step ${ms(step)}, push ${ms(push)}`);
  console.log(
    `wire: ${(last.wire.in / rows).toFixed(0)} B to Redis + ${(last.wire.out / rows).toFixed(0)} B back ` +
      'per row moved ' +
      `(value ${last.stride * 4} B a row; ${((last.wire.in + last.wire.out) / N / 2 ** 20).toFixed(2)} MiB a batch)`,
  );
}
console.log(`deleted ${await deleteKeys(cluster, `${prefix}:*`)} bench keys`);
cluster.disconnect();
