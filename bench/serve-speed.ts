/**
 * Serving speed: `lionctr serve` under autocannon (10 connections) at 1, 16 and 256 instances
 * per request, interleaved with in-process scoring of the same instances (featurize + the
 * served model's scoring, the floor HTTP is measured against): req/s, instances/s, p50/p99
 * latency and the HTTP/in-process ratio, per server.
 *
 *   npx tsx bench/serve-speed.ts [--seconds 10] [--sizes 1,16,256] [--rows 5000] [--connections 10]
 *     [--rounds 1] [--warmup 3] [--server label=dir[,key=value...]]... [--set key=value]...
 *     [--node-args='--cpu-prof --cpu-prof-dir=/tmp/prof'] [--skip-in-process]
 *
 * The export is the default model (config/default.json, `--set` applies to it and to every
 * server) with `--rows` rows admitted per slot (random init, as a trained model's tables are
 * dense enough), written with writeExport. Each `--server` is a `lionctr serve` child process
 * from the checkout `dir` (a copy of main for a baseline: `git archive main | tar -x -C DIR`
 * and a node_modules link), with its own `--set` keys after the commas (an item starting with `--` is a
 * Node option for that server, e.g. `semi=.,--max-semi-space-size=64`); default `this=.`.
 * Before the first round each server and the in-process scorer run every size for `--warmup` seconds,
 * not measured (V8 compiles the hot paths and the id caches fill, as for a server that has been up a
 * while; TF Serving's SavedModel warm-up serves the same end); `--warmup 0` measures from a cold start.
 * Phases run one after another (never two at once), so each gets the same cores; the 1-min
 * load average is printed beside each figure, as other processes on the machine skew them.
 * Beside throughput, each phase prints the CPU it cost, which other load skews less: `cpu us/i`,
 * the server's user + system CPU µs per instance (/proc/<pid>/stat, its worker processes included;
 * in-process: this process's), `sys %` the kernel's share of it, and `cli us/r`, this process's CPU µs
 * per request while autocannon ran (the client's share of the machine). With `--rounds` > 1 a last
 * table gives each server's median over the rounds and issue 11's targets (p99 < 10 ms at 16
 * instances, >= 41k instances/s at 16, HTTP >= 0.7 of in-process at every size).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { featureSchemaOf } from '../src/cli/common.ts';
import { modelOf } from '../src/cli/model-setup.ts';
import { loadConfig } from '../src/config/schema.ts';
import { Featurizer } from '../src/features/featurizer.ts';
import type { FeatureSchema } from '../src/features/schema.ts';
import { selectBackend } from '../src/model/backend.ts';
import { loadExport } from '../src/model/export-reader.ts';
import { writeExport } from '../src/train/export-writer.ts';
import { scoreRows } from '../src/serve/scoring.ts';
import { cpuSecondsOf, type Figures, ownCpuSeconds, printMedians } from './serve-speed-figures.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    sizes: { type: 'string', default: '1,16,256' },
    rows: { type: 'string', default: '5000' },
    connections: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '1' },
    server: { type: 'string', multiple: true, default: [] },
    set: { type: 'string', multiple: true, default: [] },
    port: { type: 'string', default: '18600' },
    'node-args': { type: 'string', default: '' },
    'skip-in-process': { type: 'boolean', default: false },
    pin: { type: 'string', default: '' },
    warmup: { type: 'string', default: '3' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(
    'usage: npx tsx bench/serve-speed.ts [--seconds 10] [--sizes 1,16,256] [--rows 5000] [--connections 10]\n' +
      '  [--rounds 1] [--warmup 3] [--server label=dir[,key=value...]]... [--set key=value]...',
  );
  process.exit(0);
}
const seconds = Number(values.seconds),
  sizes = values.sizes.split(',').map(Number),
  rowsPerSlot = Number(values.rows),
  connections = Number(values.connections),
  rounds = Number(values.rounds);
/** `--pin S:C`: the server (and in-process scoring) on CPU list S, autocannon on CPU list C (taskset). */
const pin = values.pin ? { server: values.pin.split(':')[0], client: values.pin.split(':')[1] } : null;
/** Moves every thread of this process onto the CPU list `cpus` (taskset -a -p). */
function pinSelf(cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
}
if (pin) pinSelf(pin.client);
const BODIES = 16; // distinct request bodies per size, cycled (the hash caches see repeats, as in a click log)

/** Deterministic uniform integers in [0, n) (mulberry32). */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** n instances, every slot set; categorical values v0..v(1.1 rows) (about 9% unknown to the model). */
function instances(schema: FeatureSchema, n: number, rand: (n: number) => number): Record<string, unknown>[] {
  return Array.from({ length: n }, () => {
    const r: Record<string, unknown> = {};
    for (const c of schema.categorical) r[c] = `v${rand(Math.ceil(rowsPerSlot * 1.1))}`;
    for (const x of schema.numeric) r[x] = rand(1000);
    return r;
  });
}

/** BODIES instance sets of size n from the generator seeded `seed`, and their predict bodies. */
function workload(n: number, seed: number): { sets: Record<string, unknown>[][]; bodies: string[] } {
  const rand = prng(seed);
  const sets = Array.from({ length: BODIES }, () => instances(schema, n, rand));
  return { sets, bodies: sets.map((instances) => JSON.stringify({ instances })) };
}

const cfg = loadConfig([], values.set);
const schema = featureSchemaOf(cfg);
await selectBackend(cfg.backend);
const root = await mkdtemp(join(tmpdir(), 'lionctr-serve-speed-'));
{
  const model = modelOf(cfg, schema);
  const f = new Featurizer(schema);
  // rows v0 .. v(rows-1) of every categorical slot (and the numeric slots' buckets)
  for (let s = 0; s < rowsPerSlot; s += 1000) {
    const batch = Array.from({ length: Math.min(1000, rowsPerSlot - s) }, (_, i) => {
      const r: Record<string, unknown> = {};
      for (const c of schema.categorical) r[c] = `v${s + i}`;
      for (const x of schema.numeric) r[x] = (s + i) % 1000;
      return r;
    });
    model.gather(f.fromInstances(batch), true);
  }
  const meta = { step: 1, examples: 0, sourceOffsets: {}, watermarkMs: null, metrics: {} };
  const { version } = await writeExport(root, model, meta);
  model.dispose();
  console.log(`export ${version}: ${JSON.stringify(model.rowCounts()).slice(0, 80)}... under ${root}`);
}

/** One `lionctr serve` child process. */
interface Server {
  label: string;
  port: number;
  child: ChildProcess;
}

async function startServer(spec: string, port: number): Promise<Server> {
  const [label, rest] = spec.includes('=')
    ? [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)]
    : [spec, '.'];
  const [dir, ...extra] = rest.split(',');
  const sets = extra.filter((e) => !e.startsWith('--'));
  const nodeArgs = values['node-args'].split(' ').filter(Boolean);
  const args = [
    ...nodeArgs,
    ...extra.filter((e) => e.startsWith('--')),
    join(resolve(dir), 'bin', 'lionctr.mjs'),
    'serve',
    '--export-dir',
    root,
    '--port',
    String(port),
  ];
  for (const s of [...values.set, 'log.level=warn', 'serve.drainSeconds=0', ...sets]) args.push('--set', s);
  const [cmd, argv] = pin ? ['taskset', ['-c', pin.server, process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(cmd, argv, { cwd: resolve(dir), stdio: ['ignore', 'inherit', 'inherit'] });
  const until = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server ${label} exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > until) throw new Error(`server ${label} not ready after 120 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { label, port, child };
}

const specs = values.server.length ? values.server : ['this=.'];
const servers: Server[] = [];
for (let i = 0; i < specs.length; i++) servers.push(await startServer(specs[i], Number(values.port) + i));
const version = readFileSync(join(root, 'LATEST'), 'utf8').trim();
const { model, manifest } = await loadExport(join(root, version));
const served = { version, model, manifest, featurizer: new Featurizer(manifest.schema), loadedAt: new Date() };
/** In-process scoring: what the predict route does after parsing and checking the body. */
const score = (rows: Record<string, unknown>[]) => scoreRows(served, rows, (i) => `instances[${i}]`);

async function httpPhase(s: Server, bodies: string[], n: number, duration = seconds): Promise<Figures> {
  const url = `http://127.0.0.1:${s.port}/v1/models/${cfg.serve.modelName}:predict`;
  const check = await fetch(url, { method: 'POST', body: bodies[0] });
  const got = (await check.json()) as { predictions?: number[] };
  if (got.predictions?.length !== n)
    throw new Error(`${s.label}: ${check.status} ${JSON.stringify(got).slice(0, 200)}`);
  const cpu0 = cpuSecondsOf(s.child.pid),
    sys0 = cpuSecondsOf(s.child.pid, true),
    own0 = ownCpuSeconds();
  const r = await autocannon({
    url,
    connections,
    duration,
    requests: bodies.map((body) => ({
      method: 'POST' as const,
      body,
      headers: { 'content-type': 'application/json' },
    })),
  });
  const failed = r.errors + r.timeouts + r.non2xx;
  const cpu = cpuSecondsOf(s.child.pid) - cpu0,
    sys = cpuSecondsOf(s.child.pid, true) - sys0,
    own = ownCpuSeconds() - own0;
  return {
    cpuPerInst: (cpu / (r.requests.total * n)) * 1e6,
    sysPercent: (100 * sys) / cpu,
    clientCpuPerReq: (own / r.requests.total) * 1e6,
    reqPerS: r.requests.average,
    instPerS: r.requests.average * n,
    p50: r.latency.p50,
    p99: r.latency.p99,
    load: loadavg()[0],
    failed,
  };
}

async function inProcessPhase(sets: Record<string, unknown>[][], n: number, duration = seconds): Promise<Figures> {
  if (pin) pinSelf(pin.server);
  try {
    return await inProcessRun(sets, n, duration);
  } finally {
    if (pin) pinSelf(pin.client);
  }
}

async function inProcessRun(sets: Record<string, unknown>[][], n: number, duration: number): Promise<Figures> {
  const lat: number[] = [];
  const cpu0 = ownCpuSeconds();
  const end = performance.now() + duration * 1000;
  let i = 0;
  while (performance.now() < end) {
    const t = performance.now();
    await score(sets[i++ % sets.length]);
    lat.push(performance.now() - t);
    if (i % 64 === 0) await new Promise((r) => setImmediate(r));
  }
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  const reqPerS = lat.length / duration;
  const cpuPerInst = ((ownCpuSeconds() - cpu0) / (lat.length * n)) * 1e6;
  return {
    reqPerS,
    instPerS: reqPerS * n,
    p50: q(0.5),
    p99: q(0.99),
    load: loadavg()[0],
    failed: 0,
    cpuPerInst,
    clientCpuPerReq: NaN,
    sysPercent: NaN,
  };
}

const fmt = (x: number, d = 0) => x.toFixed(d).padStart(9);
console.log(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}; ${seconds} s per phase`,
);
console.log(
  `${'size'.padStart(5)} ${'phase'.padEnd(12)} ` +
    ['req/s', 'inst/s', 'p50 ms', 'p99 ms', 'vs inproc', 'vs first', 'cpu us/i', 'sys %', 'cli us/r']
      .map((h) => h.padStart(9))
      .join(' ') +
    ` ${'load1'.padStart(6)}`,
);
const warmup = Number(values.warmup);
if (warmup > 0) {
  for (const n of sizes) {
    const { sets, bodies } = workload(n, 500 + n);
    if (!values['skip-in-process']) await inProcessPhase(sets, n, warmup);
    for (const s of servers) await httpPhase(s, bodies, n, warmup);
  }
  console.log(`warm-up: ${warmup} s per size and server, not measured`);
}
const results = new Map<string, Figures[]>();
for (let round = 0; round < rounds; round++)
  for (const n of sizes) {
    const { sets, bodies } = workload(n, 1000 + n + round);
    const inproc = values['skip-in-process']
      ? {
          reqPerS: NaN,
          instPerS: NaN,
          p50: NaN,
          p99: NaN,
          load: loadavg()[0],
          failed: 0,
          cpuPerInst: NaN,
          clientCpuPerReq: NaN,
          sysPercent: NaN,
        }
      : await inProcessPhase(sets, n);
    const phases: [string, Figures][] = [['in-process', inproc]];
    for (const s of servers) phases.push([s.label, await httpPhase(s, bodies, n)]);
    const first = phases[1]?.[1];
    for (const [label, f] of phases) {
      const key = `${n} ${label}`;
      results.set(key, [...(results.get(key) ?? []), f]);
      console.log(
        `${String(n).padStart(5)} ${label.padEnd(12)} ${fmt(f.reqPerS)} ${fmt(f.instPerS)} ${fmt(f.p50, 2)} ` +
          `${fmt(f.p99, 2)} ${fmt(f.instPerS / inproc.instPerS, 2)} ` +
          `${fmt(first ? f.instPerS / first.instPerS : 1, 2)} ${fmt(f.cpuPerInst, 1)} ${fmt(f.sysPercent, 0)} ` +
          `${fmt(f.clientCpuPerReq, 0)} ` +
          `${f.load.toFixed(2).padStart(6)}${f.failed ? `  FAILED ${f.failed}` : ''}`,
      );
    }
  }
if (rounds > 1)
  printMedians(
    results,
    sizes,
    servers.map((s) => s.label),
    rounds,
  );
console.log(
  `load average at end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
for (const s of servers) s.child.kill('SIGTERM');
await Promise.all(servers.map((s) => new Promise((r) => (s.child.exitCode !== null ? r(0) : s.child.once('exit', r)))));
served.model.dispose();
await rm(root, { recursive: true, force: true });
