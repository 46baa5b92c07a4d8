/**
 * Several trainers on shared Redis rows against one trainer on the local store, in one run, interleaved
 * (issue 16): per round, 1 trainer on the local store, then 1, 2 and 3 trainers on Redis (one key prefix
 * per run), each trainer a process of its own (this file with --worker) training its share of the same
 * synthetic Criteo-shaped stream (batch i to trainer i mod N) through RowSync (rows pulled before each
 * step, pushed after it) and DenseSync (towers averaged every --dense-sync steps). The trainers start
 * together (a barrier) and examples/s is all their examples over the wall time from the start to the
 * last one's end. Holdout AUC: the examples after the training ones, scored by the model the group
 * holds at the end: every row in Redis (export-rows.ts, as an export) and the mean of the trainers'
 * final towers (dense-sync.ts); the local trainer's own model. Needs a cluster (ops/redis/start.sh,
 * default nodes 127.0.0.1:17000); the bench's keys are deleted at the end. On loopback and shared cores
 * the trainers compete for the same CPUs (load average printed): speed-up needs cores or machines.
 * Each Redis setup runs with every row update of --update (rows.redis.update: merge, the step's change
 * added to the row by a Lua script; overwrite, the later write wins), and prints the cost of the Redis
 * path per batch (commands, pipelines = round trips per node) and per row moved (value bytes to and
 * from Redis), and the share of pushed rows that another trainer had written since the pull (merged).
 *
 *   npx tsx bench/redis-trainers.ts [--nodes 127.0.0.1:17000] [--batches 40] [--batch-size 1024]
 *     [--holdout 20000] [--rounds 2] [--dense-sync 10] [--trainers 1,2,3] [--update merge,overwrite]
 *     [--dense-mode average|sum] (rows.redis.denseMode) [--dense-lr 1e-3] (the tower's Lion lr, every trainer's)
 *     [--criteo FILE]   (the Criteo format's rows instead of the synthetic stream: the first batches * batch-size
 *                        rows train, the next holdout rows score; e.g. ../shared/data/criteo-10k/criteo_10k.tsv
 *                        with --batch-size 256 --batches 31 --holdout 1999)
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Cluster } from 'ioredis';
import pino from 'pino';
import { Featurizer } from '../src/features/featurizer.ts';
import type { FeatureBatch } from '../src/features/feature-batch.ts';
import { criteoSlots } from '../src/features/schema.ts';
import { createFileSource } from '../src/ingest/file-source.ts';
import { createSyntheticSource } from '../src/ingest/synthetic-source.ts';
import { selectBackend } from '../src/model/backend.ts';
import { CtrModel } from '../src/model/ctr-model.ts';
import { layoutOf } from '../src/model/row-access.ts';
import { RowSync, type RowUpdateMode } from '../src/model/row-sync.ts';
import { DenseSync } from '../src/store/redis/dense-sync.ts';
import { refreshAllRows } from '../src/store/redis/export-rows.ts';
import { openCluster } from '../src/store/redis/open-cluster.ts';
import { RedisRowAccess } from '../src/store/redis/redis-row-access.ts';
import { auc } from '../src/train/evaluation/binary-metrics.ts';
import { TrainStep } from '../src/train/train-step.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '127.0.0.1:17000' },
    batches: { type: 'string', default: '40' },
    'batch-size': { type: 'string', default: '1024' },
    holdout: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '2' },
    'dense-sync': { type: 'string', default: '10' },
    trainers: { type: 'string', default: '1,2,3' },
    update: { type: 'string', default: 'merge,overwrite' },
    'dense-mode': { type: 'string', default: 'average' },
    criteo: { type: 'string' }, // a Criteo TSV instead of the synthetic stream
    'dense-lr': { type: 'string', default: '1e-3' }, // the tower's Lion lr
    worker: { type: 'string' }, // internal: "index/count/prefix/update" (prefix "" = the local store)
    help: { type: 'boolean' },
  },
});
const usage =
  'usage: npx tsx bench/redis-trainers.ts [--nodes 127.0.0.1:17000] [--batches 40] [--batch-size 1024] ' +
  '[--holdout 20000] [--rounds 2] [--dense-sync 10] [--trainers 1,2,3] [--update merge,overwrite] ' +
  '[--dense-mode average|sum] [--dense-lr 1e-3] [--criteo FILE]';
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const N = Number(values.batches),
  B = Number(values['batch-size']),
  H = Number(values.holdout),
  R = Number(values.rounds),
  K = Number(values['dense-sync']);
const counts = values.trainers.split(',').map(Number);
const modes = values.update.split(',') as RowUpdateMode[];
const denseMode = values['dense-mode'] as 'average' | 'sum';
const badMode = !modes.every((m) => m === 'merge' || m === 'overwrite') || !['average', 'sum'].includes(denseMode);
if (![N, B, H, R].every((v) => Number.isInteger(v) && v >= 1) || !(K >= 0) || !counts.every((c) => c >= 1) || badMode) {
  console.error(`bench/redis-trainers: bad arguments\n${usage}`);
  process.exit(2);
}
const SEED = 5;
const schema = { ...criteoSlots(), embeddingDim: 16 };
const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
const optim = {
  dense: lp(Number(values['dense-lr'])),
  embedding: lp(3e-3),
  linear: lp(3e-3),
  sparseKernel: 'wasm',
  sparseMode: 'lazy',
} as const;
const makeModel = () => new CtrModel(schema, { hidden: [256, 128], initStd: 0.01, seed: 1, momentumDtype: 'bfloat16' });
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1];
const silent = pino({ level: 'warn' });

/** `count` batches of the stream from example `from`, those with index % every === which. */
async function batches(from: number, count: number, every = 1, which = 0): Promise<FeatureBatch[]> {
  const fz = new Featurizer(schema),
    out: FeatureBatch[] = [];
  let i = 0;
  const src = values.criteo
    ? createFileSource({ path: values.criteo, format: 'criteo', schema, skip: from, limit: count * B })
    : createSyntheticSource({ seed: SEED, startOffset: from, limit: count * B });
  for await (const rb of src.batches({ batchSize: B })) if (i++ % every === which) out.push(fz.fromRecordBatch(rb));
  return out;
}

/** Holdout AUC of `model` on the H examples after the training ones. */
async function holdoutAuc(model: CtrModel): Promise<number> {
  const p: number[] = [],
    y: number[] = [];
  for (const b of await batches(N * B, Math.ceil(H / B))) {
    p.push(...model.predict(b));
    y.push(...b.labels);
  }
  return auc(p, y);
}

/** A trainer process: trains its share after the parent's "go", prints {examples, seconds, auc | null, stats}. */
async function worker(spec: string): Promise<void> {
  const [ws, ns, prefix, update] = spec.split('/');
  const [w, n] = [Number(ws), Number(ns)];
  await selectBackend('auto');
  const data = await batches(0, N, n, w);
  const model = makeModel(),
    step = new TrainStep(model, optim);
  const cluster = prefix ? await openCluster(values.nodes.split(','), silent) : null;
  const store = cluster
    ? new RedisRowAccess(cluster, {
        keyPrefix: prefix,
        strideOf: (slot) => layoutOf(model.tables[model.slots.indexOf(slot)]).stride,
        layoutOf: (slot) => layoutOf(model.tables[model.slots.indexOf(slot)]),
        ttlSeconds: 0,
        timeoutMs: 60_000,
      })
    : null;
  const sync = store ? new RowSync(model, store, true, update as RowUpdateMode) : null;
  const denseOpts = { keyPrefix: prefix, everySteps: K, staleMs: 3600e3, logger: silent, mode: denseMode };
  const dense = cluster ? new DenseSync(cluster, model.tower.vars, denseOpts) : null;
  await dense?.begin();
  console.log('ready');
  for await (const _ of createInterface({ input: process.stdin })) break; // "go"
  const t0 = performance.now();
  for (const b of data) {
    await sync?.pull(b);
    step.run(b);
    await sync?.push();
    await dense?.afterStep();
  }
  const seconds = (performance.now() - t0) / 1000;
  await dense?.publish(); // the final tower, for the group's mean
  const auc = cluster ? null : await holdoutAuc(model);
  const result = { examples: data.length * B, seconds, auc, batches: data.length, stats: store?.stats ?? null };
  console.log(JSON.stringify(result));
  cluster?.disconnect();
}

type Stats = RedisRowAccess['stats'];
/** What a group did: examples/s, the local trainer's AUC, and the Redis path's cost summed over its trainers. */
interface GroupResult {
  exs: number;
  auc: number | null;
  batches: number;
  stats: Stats | null;
}

/** Runs `n` trainer processes on `prefix` ("" = local store) from one start; ex/s and the workers' results. */
async function runGroup(n: number, prefix: string, update: RowUpdateMode | '' = ''): Promise<GroupResult> {
  const me = fileURLToPath(import.meta.url);
  const procs = Array.from({ length: n }, (_, w) => {
    const args = ['--import', 'tsx', me, ...process.argv.slice(2), '--worker', `${w}/${n}/${prefix}/${update}`];
    const c = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: c.stdout! });
    const ready = new Promise<void>((res) => lines.once('line', () => res()));
    type Done = { examples: number; seconds: number; auc: number | null; batches: number; stats: Stats | null };
    const done = new Promise<Done>((res, rej) => {
      lines.on('line', (l) => l.startsWith('{') && res(JSON.parse(l)));
      c.on('exit', (code) => code !== 0 && rej(new Error(`trainer ${w} exited with ${code}`)));
    });
    return { c, ready, done };
  });
  await Promise.all(procs.map((p) => p.ready));
  const t0 = performance.now();
  for (const p of procs) p.c.stdin!.write('go\n');
  const results = await Promise.all(procs.map((p) => p.done.then((r) => ({ ...r, end: performance.now() }))));
  const wall = (Math.max(...results.map((r) => r.end)) - t0) / 1000;
  let stats: Stats | null = null;
  for (const r of results) {
    if (!r.stats) continue;
    if (!stats) stats = { ...r.stats };
    else for (const k of Object.keys(stats) as (keyof Stats)[]) stats[k] += r.stats[k];
  }
  const batches = results.reduce((s, r) => s + r.batches, 0);
  return { exs: results.reduce((s, r) => s + r.examples, 0) / wall, auc: results[0].auc, batches, stats };
}

/** The group's model: every row under `prefix` and the mean of its trainers' final towers. */
async function groupAuc(cluster: Cluster, prefix: string): Promise<number> {
  const model = makeModel();
  const store = new RedisRowAccess(cluster, {
    keyPrefix: prefix,
    strideOf: (slot) => layoutOf(model.tables[model.slots.indexOf(slot)]).stride,
    ttlSeconds: 0,
    timeoutMs: 60_000,
  });
  const dense = new DenseSync(cluster, model.tower.vars, {
    keyPrefix: prefix,
    everySteps: 0,
    staleMs: 3600e3,
    logger: silent,
    mode: denseMode,
  });
  await dense.average();
  await refreshAllRows(cluster, store, model, prefix);
  const a = await holdoutAuc(model);
  model.dispose();
  return a;
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

if (values.worker !== undefined) {
  await worker(values.worker);
  process.exit(0);
}
await selectBackend('auto');
const cluster = await openCluster(values.nodes.split(','), silent);
const la = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
console.log(
  `load average ${la()}; ${N} batches of ${B} (${values.criteo ?? `synthetic, seed ${SEED}`}), holdout ${H}, ` +
    'dim 16, tower 256-128, ' +
    `dense sync every ${K} steps (${denseMode}), nodes ${values.nodes}`,
);
console.log(
  'round | setup | ex/s | x local | holdout AUC | AUC - local | commands/batch | pipelines/batch | ' +
    'B/row to Redis | B/row back | rows merged',
);
const figures = new Map<string, { exs: number[]; auc: number[] }>();
const note = (k: string, exs: number, a: number) => {
  const f = figures.get(k) ?? { exs: [], auc: [] };
  f.exs.push(exs);
  f.auc.push(a);
  figures.set(k, f);
};
/** The Redis path's cost columns: per batch (all trainers' batches) and per row moved. */
const cost = (g: GroupResult): string => {
  const s = g.stats;
  if (!s) return '- | - | - | - | -';
  const merged = s.keysWritten ? `${((100 * s.rowsMerged) / s.keysWritten).toFixed(1)}%` : '-';
  return (
    `${(s.commands / g.batches).toFixed(0)} | ${(s.pipelines / g.batches).toFixed(0)} | ` +
    `${(s.bytesWritten / s.keysWritten).toFixed(0)} | ` +
    `${(s.bytesRead / Math.max(1, s.keysFound)).toFixed(0)} | ${merged}`
  );
};
const base = `bench-redis-trainers:${process.pid}`;
for (let r = 0; r < R; r++) {
  const local = await runGroup(1, '');
  note('local 1', local.exs, local.auc!);
  console.log(
    `${r} | local, 1 trainer | ${local.exs.toFixed(0)} | 1.00 | ${local.auc!.toFixed(4)} | 0 | ${cost(local)}`,
  );
  for (const n of counts)
    for (const mode of modes) {
      const prefix = `${base}:${r}:${n}:${mode}`;
      const g = await runGroup(n, prefix, mode);
      const a = await groupAuc(cluster, prefix);
      note(`${mode} ${n}`, g.exs, a);
      console.log(
        `${r} | redis ${mode}, ${n} trainer(s) | ${g.exs.toFixed(0)} | ${(g.exs / local.exs).toFixed(2)} | ` +
          `${a.toFixed(4)} | ${(a - local.auc!).toFixed(4)} | ${cost(g)}`,
      );
      await deleteKeys(cluster, `${prefix}:*`);
      await deleteKeys(cluster, `{${prefix}:dense}:*`);
    }
}
const loc = figures.get('local 1')!;
console.log(`medians over ${R} round(s) (load average ${la()}):`);
for (const [k, f] of figures)
  console.log(
    `  ${k.padEnd(12)} ${median(f.exs).toFixed(0).padStart(6)} ex/s ` +
      `(x${(median(f.exs) / median(loc.exs)).toFixed(2)}), ` +
      `holdout AUC ${median(f.auc).toFixed(4)} (${(median(f.auc) - median(loc.auc)).toFixed(4)} vs local)`,
  );
cluster.disconnect();
