import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_HEADER } from '../../src/cli/commands/lifecycle.ts';
import { VERSION_HEADER } from '../../src/serve/http-server.ts';
import { STATUS_JSON_PATH } from '../../src/serve/status-page/routes.ts';
import { writeExport } from '../../src/train/export-writer.ts';
import { alive, sampleOf } from '../helpers/run-process.ts';
import { sampleInstances, tinyTrainedModel } from '../helpers/tiny-model.ts';

const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LIONCTR_')));
const meta = { step: 5, examples: 2560, sourceOffsets: {}, watermarkMs: 0, metrics: {} };

/** One HTTP request on a new connection (the cluster hands connections out round-robin). */
function call(port: number, method: string, path: string, body?: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; text: string }>((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

describe('lionctr serve --workers 2', () => {
  let dir: string;
  let version: string;
  let body: string;
  let proc: ChildProcess;
  let log = '';
  const port = 21000 + Math.floor(Math.random() * 20000);

  /** Predicts on new connections until every worker id in `ids` answered (60 s at most); each answers 200. */
  async function untilAnswered(ids: string[]): Promise<{ sent: number; seen: Set<string> }> {
    const seen = new Set<string>();
    let sent = 0;
    for (const t0 = Date.now(); !ids.every((id) => seen.has(id)) && Date.now() - t0 < 60_000; ) {
      if (sent > 0) await new Promise((r) => setTimeout(r, 20));
      const r = await call(port, 'POST', '/v1/models/ctr:predict', body);
      sent++;
      expect(r.status, r.text).toBe(200);
      expect(r.headers[VERSION_HEADER]).toBe(version);
      expect(JSON.parse(r.text).predictions).toHaveLength(3);
      seen.add(String(r.headers[WORKER_HEADER]));
    }
    return { sent, seen };
  }
  const pidOf = (id: number) => Number(new RegExp(`worker ${id} started \\(pid (\\d+)\\)`).exec(log)?.[1]);
  const waitFor = async (what: () => boolean, ms: number) => {
    for (const t0 = Date.now(); !what(); ) {
      if (Date.now() - t0 > ms) throw new Error(`timed out; log:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lionctr-workers-'));
    const trained = await tinyTrainedModel(2);
    version = (await writeExport(dir, trained.model, meta)).version;
    body = JSON.stringify({ instances: sampleInstances(3, trained.schema) });
    const args = ['serve', '--workers', '2', '--port', String(port), '--export-dir', dir];
    const sets = ['serve.drainSeconds=0.2', 'serve.statusHistory.intervalSeconds=0.3'];
    proc = spawn('node', ['bin/lionctr.mjs', ...args, ...sets.flatMap((x) => ['--set', x])], { env: cleanEnv });
    proc.stderr?.on('data', (c) => {
      log += c;
    });
    // both workers ready: each answers /readyz 200 once its registry loaded the export
    await waitFor(() => /worker 2 started/.test(log), 60_000);
    const ready = new Set<string>();
    await waitFor(() => {
      call(port, 'GET', '/readyz').then(
        (r) => r.status === 200 && ready.add(String(r.headers[WORKER_HEADER])),
        () => {},
      );
      return ready.size === 2;
    }, 60_000);
  }, 120_000);
  afterAll(async () => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('answers from both workers, and /metrics sums their requests', async () => {
    const before = await call(port, 'GET', '/metrics');
    const n0 = sampleOf(before.text, 'lionctr_serve_requests_total', 'route="predict",code="200"') ?? 0;
    const { sent, seen } = await untilAnswered(['1', '2']);
    expect([...seen].sort()).toEqual(['1', '2']);
    const m = await call(port, 'GET', '/metrics');
    expect(m.status).toBe(200);
    expect(sampleOf(m.text, 'lionctr_serve_requests_total', 'route="predict",code="200"')).toBe(n0 + sent);
    expect(sampleOf(m.text, 'lionctr_serve_instances_per_request_count')).toBe(n0 + sent);
    // gauges that are no sums: the version (min over workers), build_info 1, not 2
    expect(sampleOf(m.text, 'lionctr_serve_model_version')).toBe(Number(version));
    expect(m.text).toMatch(/^lionctr_build_info\{[^}]*\} 1$/m);
    expect(sampleOf(m.text, 'lionctr_serve_model_age_seconds')).toBeGreaterThan(0);
  }, 60_000);

  it("the status page's prediction rate is the endpoint's, whichever worker answers the page", async () => {
    // every prediction on one keep-alive connection, so one worker answers all of them
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const predictedBy = new Set<string>();
    let stop = false,
      predicted = 0;
    // the earlier tests' predictions (both workers) out of the newest sample: 4 sample intervals
    await new Promise((r) => setTimeout(r, 1200));
    const predicting = (async () => {
      while (!stop) {
        await new Promise<void>((ok, fail) => {
          const req = request(
            { host: '127.0.0.1', port, method: 'POST', path: '/v1/models/ctr:predict', agent },
            (res) => {
              predictedBy.add(String(res.headers[WORKER_HEADER]));
              res.resume();
              res.on('end', () => ok());
            },
          );
          req.on('error', fail);
          req.end(body);
        });
        predicted++;
      }
    })();
    // the page's JSON on new connections until both workers answered it with a rate above 0
    const busy = new Map<string, number>();
    try {
      for (const t0 = Date.now(); busy.size < 2 && Date.now() - t0 < 30_000; ) {
        await new Promise((r) => setTimeout(r, 50));
        const r = await call(port, 'GET', STATUS_JSON_PATH);
        expect(r.status, r.text).toBe(200);
        const rate = JSON.parse(r.text).latest?.predict_requests_per_second;
        if (typeof rate === 'number' && rate > 0) busy.set(String(r.headers[WORKER_HEADER]), rate);
      }
    } finally {
      stop = true;
      await predicting;
      agent.destroy();
    }
    expect(predicted).toBeGreaterThan(10);
    expect(predictedBy.size, `predictions answered by workers ${[...predictedBy]}`).toBe(1);
    // before the status sampler read the combined metrics, the worker without the connection showed 0
    expect([...busy.keys()].sort()).toEqual(['1', '2']);
  }, 60_000);

  it('restarts a worker that dies, with a log line; the restart takes requests once loaded', async () => {
    const pid1 = pidOf(1);
    expect(alive(pid1)).toBe(true);
    // the earlier tests' predictions were answered by both workers: worker 1 holds part of the count
    const before = await call(port, 'GET', '/metrics');
    const predicted = (t: string) => sampleOf(t, 'lionctr_serve_requests_total', 'route="predict",code="200"') ?? 0;
    const started = sampleOf(before.text, 'process_start_time_seconds');
    expect(predicted(before.text)).toBeGreaterThan(0);
    process.kill(pid1, 'SIGKILL');
    await waitFor(() => /worker 1 \(pid \d+\) died with signal SIGKILL; restarting in 1 s/.test(log), 10_000);
    // every request meanwhile is answered 200 by worker 2, then by both
    const { sent, seen } = await untilAnswered(['2', '3']);
    expect([...seen].sort()).toEqual(['2', '3']);
    // counted by the primary in the workers' sum: one died while running, none failed to start
    const m = await call(port, 'GET', '/metrics');
    // the dead worker's counts stay in the sum (carried forward): the counter does not fall, which Prometheus would
    // read as a reset; the service's start time is the primary's, the same before and after
    expect(predicted(m.text)).toBe(predicted(before.text) + sent);
    expect(started).toBeGreaterThan(0);
    expect(sampleOf(m.text, 'process_start_time_seconds')).toBe(started);
    // the workers' fd limit is one process's (the limit this test runs under), not the sum of two
    const limit = Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]);
    expect(sampleOf(m.text, 'process_max_fds')).toBe(limit);
    expect(sampleOf(m.text, 'lionctr_serve_worker_failures_total', 'stage="running"')).toBe(1);
    expect(sampleOf(m.text, 'lionctr_serve_worker_failures_total', 'stage="start"')).toBe(0);
  }, 120_000);

  it('a worker stopped alone (SIGTERM to it) drains, is replaced at once, and is no failure', async () => {
    const pid3 = pidOf(3);
    expect(alive(pid3)).toBe(true);
    process.kill(pid3, 'SIGTERM');
    await waitFor(() => /worker 3 \(pid \d+\) stopped \(status 0\); starting another/.test(log), 20_000);
    const { seen } = await untilAnswered(['2', '4']);
    expect([...seen].sort()).toEqual(['2', '4']);
    expect(log).not.toMatch(/worker 3 \(pid \d+\) died/);
    const m = await call(port, 'GET', '/metrics');
    expect(sampleOf(m.text, 'lionctr_serve_worker_failures_total', 'stage="running"')).toBe(1);
  }, 120_000);

  it('SIGTERM drains both workers and exits 0', async () => {
    const pids = [pidOf(2), pidOf(4)];
    expect(pids.every(alive)).toBe(true);
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
    expect(log).toMatch(/worker 2 \(pid \d+\) exited with status 0/);
    expect(log).toMatch(/worker 4 \(pid \d+\) exited with status 0/);
  }, 60_000);
});
