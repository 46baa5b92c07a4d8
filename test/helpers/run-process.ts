/**
 * A `lionctr run` child process for fault tests (issue 17): spawned with `--set`s on a free port,
 * its output kept; its /readyz and /metrics read over real HTTP; and a client that keeps asking
 * for predictions and counts every request that fails (a connection refused, a non-200).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { criteoSlots } from '../../src/features/schema.ts';
import type { Fixture } from './fixture.ts';
import { cleanEnv } from './kafka-process.ts';
import { sampleInstances } from './tiny-model.ts';

/** A port free on 127.0.0.1 now (listened on once, closed). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether process `pid` exists (signal 0). */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** `--set`s of a small, quick `run` (tiny model, 1 s exports and checkpoints, fast polling) on `port`. */
export function quickRunSets(port: number, extra: Record<string, unknown>): string[] {
  const o: Record<string, unknown> = {
    'serve.host': '127.0.0.1',
    'serve.port': port,
    'serve.pollSeconds': 0.2,
    'serve.drainSeconds': 0,
    'train.batchSize': 256,
    'model.hidden': [16],
    'schema.embeddingDim': 4,
    'train.progressSeconds': 0,
    'export.intervalSeconds': 1,
    'export.keep': 2,
    'checkpoint.intervalSeconds': 1,
    'log.level': 'info',
    ...extra,
  };
  return Object.entries(o).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
}

/**
 * A `lionctr run` child process tracked by `fx`; `log()` is its stdout + stderr so far.
 * `ignoreSigxfsz`: started as `bash -c 'trap "" XFSZ; exec node ...'`, so that a file size limit
 * (tmpfs.ts fileSizeLimit) makes its writes fail with EFBIG instead of killing it.
 */
export function spawnRun(sets: string[], fx: Fixture, ignoreSigxfsz = false) {
  const args = ['bin/lionctr.mjs', 'run', ...sets.flatMap((s) => ['--set', s])];
  const [cmd, argv] = ignoreSigxfsz
    ? ['bash', ['-c', 'trap "" XFSZ; exec node "$@"', 'bash', ...args]]
    : ['node', args];
  const c = fx.track(spawn(cmd as string, argv as string[], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  c.stdout!.on('data', (d) => {
    out += d;
  });
  c.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((res) => c.on('exit', (code) => res(code)));
  return { c, exited, log: () => out };
}

/** An HTTP answer: status (0: could not connect), body text, and the body as JSON ({} when not JSON). */
export interface Answer {
  status: number;
  text: string;
  body: Record<string, unknown>;
}

/** GET `path` on `port`. */
export async function get(port: number, path: string): Promise<Answer> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
    const text = await r.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: r.status, text, body };
  } catch {
    return { status: 0, text: '', body: {} };
  }
}

/** The value of sample `name` (labels as written: `x{kind="export"}`) on /metrics; NaN when absent. */
export async function metric(port: number, name: string): Promise<number> {
  const line = (await get(port, '/metrics')).text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : Number.NaN;
}

/**
 * The sample value of `name{labels}` in Prometheus text (labels as written, e.g.
 * `route="predict",code="200"`; none: the unlabelled sample), undefined when absent.
 */
export function sampleOf(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(labels ? `${name}{${labels}}` : `${name} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Polls `cond` every 200 ms until it holds; throws `what` after `ms`. */
export async function until(what: string, cond: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

/**
 * Asks `port` for predictions one request after another until `stop()`; counts requests and
 * failures (with the first few failures' reasons) and the versions that answered.
 */
export function predictLoop(port: number, model = 'ctr') {
  const body = JSON.stringify({ instances: sampleInstances(2, { ...criteoSlots(), embeddingDim: 4 }) });
  const s = { requests: 0, failed: 0, reasons: [] as string[], versions: new Set<string>() };
  let running = true;
  const done = (async () => {
    while (running) {
      s.requests++;
      try {
        const r = await fetch(`http://127.0.0.1:${port}/v1/models/${model}:predict`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json' },
          signal: AbortSignal.timeout(10_000),
        });
        const text = await r.text();
        if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${text.slice(0, 200)}`);
        s.versions.add(r.headers.get('x-lionctr-model-version') ?? '?');
      } catch (e) {
        s.failed++;
        if (s.reasons.length < 5) s.reasons.push((e as Error).message);
      }
      await sleep(20);
    }
  })();
  return {
    stats: s,
    stop: async () => {
      running = false;
      await done;
      return s;
    },
  };
}
