/**
 * The serving soak behind bench/serve-soak.ts and test/integration/serve-soak.test.ts:
 * `lionctr serve` (a child process, real HTTP) on a temp exports root, a new version
 * published every `publishSeconds` with the project's export writer (writeExport) from a
 * small trained model, autocannon load of `:predict` requests meanwhile, and the server's RSS
 * sampled every second from /proc. Every response must name the version it came from (the
 * body's `model_version` or the header `x-lionctr-model-version`), one that was published.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeExport } from '../../src/train/export-writer.ts';
import { cleanEnv } from './kafka-process.ts';
import { Featurizer } from '../../src/features/featurizer.ts';
import { criteoSlots, type FeatureSchema } from '../../src/features/schema.ts';
import { createSyntheticSource } from '../../src/ingest/synthetic-source.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { CtrModel } from '../../src/model/ctr-model.ts';
import { TrainStep } from '../../src/train/train-step.ts';
import { sampleInstances } from './tiny-model.ts';

/** What a soak is asked to do. */
export interface ServeSoakOptions {
  /** Seconds of load. */
  seconds: number;
  /** Seconds between published versions. */
  publishSeconds: number;
  /**
   * Warm-up: the RSS baseline is taken once `warmupSeconds` of load have passed (default: a
   * fifth of `seconds`) and responses have named 3 versions (the server has swapped under load).
   */
  warmupSeconds?: number;
  /**
   * When set, the load goes on past `seconds` (in 5 s rounds, up to `maxSeconds`, default 4 x
   * `seconds`) until RSS has been sampled this many seconds after the warm-up: a loaded
   * machine then measures as long as a quiet one. Latency figures are then per round
   * (median p50, largest p99). Unset: one run of `seconds`.
   */
  measuredSeconds?: number;
  maxSeconds?: number;
  /** autocannon connections (default 10). */
  connections?: number;
  /** Instances per predict request (default 16). */
  instances?: number;
  /** Training steps of the model published (batch 512; more steps, more rows; default 20). */
  steps?: number;
  /** Hidden layers of the model's tower (default [256, 128], the default config's). */
  hidden?: number[];
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What a soak measured. RSS in MB (2^20 bytes). */
export interface ServeSoakResult {
  requests: number;
  /** Responses with a status other than 2xx. */
  non2xx: number;
  /** Connection errors and timeouts (autocannon's). */
  errors: number;
  /** 2xx responses that name no version. */
  unnamed: number;
  /** Responses naming a version that was never published. */
  unknownVersion: number;
  /** Versions published (the first one included) and versions seen in responses. */
  published: number;
  versionsSeen: number;
  /** Seconds of load in all. */
  loadSeconds: number;
  /** Seconds of load until the warm-up ended (see ServeSoakOptions.warmupSeconds). */
  warmupEndSeconds: number;
  /** Server RSS: median of the 5 samples after the warm-up, of the last 5, and the largest after warm-up. */
  rssWarmMb: number;
  rssEndMb: number;
  rssMaxMb: number;
  /** (rssEnd - rssWarm) / rssWarm, percent. */
  growthPct: number;
  /** One sample a second, from the start of the load. */
  rssMb: number[];
  latencyP50Ms: number;
  latencyP99Ms: number;
  requestsPerSecond: number;
  /** The server's stderr (its warnings and errors). */
  serverLog: string;
}

/** Minimal typing of autocannon (no @types package is installed). */
type Autocannon = (opts: Record<string, unknown>) => Promise<{
  requests: { total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}>;

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const { port } = s.address() as { port: number };
  await new Promise((res) => s.close(res));
  return port;
}

/** VmRSS of `pid` in MB, or NaN when it cannot be read (not Linux, process gone). */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

const median = (xs: number[]): number => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : Number.NaN;
};

/** A model of the Criteo slots (dim 16) trained `steps` steps of 512 synthetic examples. */
async function trainedModel(steps: number, hidden: number[]): Promise<{ model: CtrModel; schema: FeatureSchema }> {
  await selectBackend('auto');
  const schema: FeatureSchema = { ...criteoSlots(), embeddingDim: 16 };
  const model = new CtrModel(schema, { hidden, initStd: 0.01, seed: 1 });
  const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
  const step = new TrainStep(model, { dense: lp(1e-3), embedding: lp(3e-3), linear: lp(3e-3) });
  const featurizer = new Featurizer(schema);
  for await (const rb of createSyntheticSource({ seed: 1, limit: steps * 512 }).batches({ batchSize: 512 }))
    step.run(featurizer.fromRecordBatch(rb));
  return { model, schema };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the soak (see the module doc). The server and the temp root are gone when it returns. */
export async function serveSoak(opts: ServeSoakOptions): Promise<ServeSoakResult> {
  const log = opts.log ?? (() => {});
  const warmup = opts.warmupSeconds ?? opts.seconds / 5;
  const root = mkdtempSync(join(tmpdir(), 'lionctr-serve-soak-'));
  const published = new Set<string>();
  const { model, schema } = await trainedModel(opts.steps ?? 20, opts.hidden ?? [256, 128]);
  let n = 0;
  const publish = async () => {
    n++;
    // the model changes between versions, as a trainer's does
    model.tables[0].rows.data[1] += 1e-4;
    const meta = { step: n, examples: n * 512, sourceOffsets: {}, watermarkMs: null, metrics: {} };
    // keep 10: a version stays on disk 10 publishes long, so a server slowed by the load still
    // finds every file of the version LATEST named when it started loading it (with the default
    // 3 and a version every 2 s, a load that lasts over 6 s would find its files pruned)
    published.add((await writeExport(root, model, meta, 10)).version);
  };
  await publish();
  const port = await freePort();
  const sets = {
    'serve.pollSeconds': Math.min(1, opts.publishSeconds / 4),
    'serve.drainSeconds': 0,
    'log.level': 'warn',
    // one process: the RSS sampled is the serving process's (serve.workers' default, auto, forks one per core)
    'serve.workers': 1,
  };
  const server = spawn(
    process.execPath,
    [
      'bin/lionctr.mjs',
      'serve',
      '--export-dir',
      root,
      '--port',
      String(port),
      ...Object.entries(sets).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
    ],
    { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let serverLog = '';
  server.stderr!.on('data', (d) => {
    serverLog += d;
  });
  const base = `http://127.0.0.1:${port}`;
  const rss: number[] = [];
  let sampler: NodeJS.Timeout | undefined;
  let publisher: Promise<void> | undefined;
  let stop = false;
  try {
    // ready: the first version loaded
    for (let t = 0; ; t++) {
      if (server.exitCode !== null) throw new Error(`lionctr serve exited (${server.exitCode}): ${serverLog}`);
      const ok = await fetch(`${base}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (t > 1200) throw new Error(`lionctr serve not ready after 120 s: ${serverLog}`);
      await sleep(100);
    }
    log(`lionctr serve (pid ${server.pid}) on ${base}, rss ${rssMb(server.pid!).toFixed(0)} MB`);
    const seen = new Map<string, number>();
    let warmEnd = -1;
    sampler = setInterval(() => {
      rss.push(rssMb(server.pid!));
      if (warmEnd < 0 && rss.length >= warmup && seen.size >= 3) warmEnd = rss.length;
    }, 1000);
    publisher = (async () => {
      for (let next = performance.now(); !stop; ) {
        next += opts.publishSeconds * 1000;
        await sleep(Math.max(0, next - performance.now()));
        if (!stop) await publish();
        if (n % 10 === 0) log(`published ${n} versions, server rss ${rss.at(-1)?.toFixed(0)} MB`);
      }
    })();
    let unnamed = 0,
      non2xx = 0,
      responses = 0;
    const body = JSON.stringify({ instances: sampleInstances(opts.instances ?? 16, schema) });
    const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
    const round = (seconds: number) =>
      autocannon({
        url: `${base}/v1/models/ctr:predict`,
        connections: opts.connections ?? 10,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
            onResponse: (status: number, resBody: string, _ctx: unknown, headers: Record<string, string>) => {
              responses++;
              if (status < 200 || status > 299) {
                non2xx++;
                return;
              }
              let v: unknown = headers['x-lionctr-model-version'];
              if (v === undefined) {
                try {
                  v = (JSON.parse(resBody) as { model_version?: unknown }).model_version;
                } catch {}
              }
              if (typeof v !== 'string') unnamed++;
              else seen.set(v, (seen.get(v) ?? 0) + 1);
            },
          },
        ],
      });
    const rounds: Awaited<ReturnType<Autocannon>>[] = [];
    const t0 = performance.now();
    const elapsed = () => (performance.now() - t0) / 1000;
    if (opts.measuredSeconds === undefined) rounds.push(await round(opts.seconds));
    else {
      const measured = opts.measuredSeconds,
        max = opts.maxSeconds ?? 4 * opts.seconds;
      const enough = () => warmEnd >= 0 && rss.length - warmEnd >= measured;
      while ((elapsed() < opts.seconds || !enough()) && elapsed() < max) rounds.push(await round(5));
    }
    const result = {
      requests: { total: rounds.reduce((a, r) => a + r.requests.total, 0) },
      non2xx: rounds.reduce((a, r) => a + r.non2xx, 0),
      errors: rounds.reduce((a, r) => a + r.errors + r.timeouts, 0),
      latency: { p50: median(rounds.map((r) => r.latency.p50)), p99: Math.max(...rounds.map((r) => r.latency.p99)) },
    };
    const loadSeconds = elapsed();
    stop = true;
    await publisher;
    clearInterval(sampler);
    if (warmEnd < 0) warmEnd = Math.max(0, rss.length - 5); // never warm: no growth is measured
    const rssWarmMb = median(rss.slice(warmEnd, warmEnd + 5));
    const rssEndMb = median(rss.slice(-5));
    const after = rss.slice(warmEnd).filter((x) => !Number.isNaN(x));
    return {
      requests: Math.max(result.requests.total, responses),
      non2xx: Math.max(non2xx, result.non2xx),
      errors: result.errors,
      unnamed,
      unknownVersion: [...seen].filter(([v]) => !published.has(v)).reduce((a, [, c]) => a + c, 0),
      published: published.size,
      versionsSeen: seen.size,
      rssWarmMb,
      rssEndMb,
      rssMaxMb: after.length ? Math.max(...after) : Number.NaN,
      growthPct: ((rssEndMb - rssWarmMb) / rssWarmMb) * 100,
      warmupEndSeconds: warmEnd,
      rssMb: rss,
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
      requestsPerSecond: result.requests.total / loadSeconds,
      loadSeconds,
      serverLog,
    };
  } finally {
    stop = true;
    clearInterval(sampler);
    await publisher?.catch(() => {});
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((res) => server.once('exit', res));
      server.kill('SIGKILL');
      await exited;
    }
    model.dispose();
    rmSync(root, { recursive: true, force: true });
  }
}
