/**
 * `lionctr serve --workers 2` under steady load while one worker is killed with SIGKILL: no request
 * hangs. With Node's round-robin cluster scheduling (SCHED_RR) the primary accepted connections
 * itself and kept each one open until the worker it handed it to acknowledged it: a connection
 * handed to the worker that was just killed stayed open, unanswered, until the client gave up
 * (minutes). Every request must get an answer, or a connection error at once, within seconds.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_HEADER } from '../../src/cli/commands/lifecycle.ts';
import { writeExport } from '../../src/train/export-writer.ts';
import { alive, freePort, sampleOf, sleep } from '../helpers/run-process.ts';
import { sampleInstances, tinyTrainedModel } from '../helpers/tiny-model.ts';

const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LIONCTR_')));
const meta = { step: 5, examples: 2560, sourceOffsets: {}, watermarkMs: 0, metrics: {} };

/** A request gets this long (ms) before the client counts it as hung. */
const HUNG_MS = 5000;

/** One request's fate: the worker that answered 200, or the error; when it was sent and settled (ms). */
interface Outcome {
  sentMs: number;
  ms: number;
  status: number;
  worker?: string;
  error?: string;
}

/** One HTTP request; never rejects: an error or a hang (HUNG_MS) is its outcome. */
function call(port: number, path: string, agent: Agent | false, body?: string): Promise<Outcome> {
  const sentMs = Date.now();
  return new Promise((ok) => {
    const end = (o: Omit<Outcome, 'sentMs' | 'ms'>) => ok({ sentMs, ms: Date.now() - sentMs, ...o });
    const req = request(
      { host: '127.0.0.1', port, method: body ? 'POST' : 'GET', path, agent, timeout: HUNG_MS },
      (res) => {
        res.resume();
        res.on('end', () => end({ status: res.statusCode ?? 0, worker: String(res.headers[WORKER_HEADER]) }));
        res.on('error', (e) => end({ status: 0, error: e.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer in ${HUNG_MS} ms`)));
    req.on('error', (e) => end({ status: 0, error: e.message }));
    req.end(body);
  });
}

/** GET `path` on a new connection: status and body text. */
function getText(port: number, path: string): Promise<{ status: number; text: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: HUNG_MS }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => ok({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in ${HUNG_MS} ms`)));
    req.on('error', fail);
    req.end();
  });
}

describe('lionctr serve --workers 2, one worker killed under load', () => {
  let dir: string;
  let body: string;
  let proc: ChildProcess;
  let port: number;
  let log = '';
  const waitFor = async (what: () => boolean, ms: number) => {
    for (const t0 = Date.now(); !what(); ) {
      if (Date.now() - t0 > ms) throw new Error(`timed out; log:\n${log}`);
      await sleep(100);
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lionctr-workers-kill-'));
    port = await freePort();
    const trained = await tinyTrainedModel(2);
    await writeExport(dir, trained.model, meta);
    body = JSON.stringify({ instances: sampleInstances(2, trained.schema) });
    const args = ['serve', '--workers', '2', '--port', String(port), '--export-dir', dir];
    proc = spawn('node', ['bin/lionctr.mjs', ...args, '--set', 'serve.drainSeconds=0.2'], { env: cleanEnv });
    proc.stderr?.on('data', (c) => {
      log += c;
    });
    await waitFor(() => /worker 2 started/.test(log), 60_000);
    const ready = new Set<string>();
    await waitFor(() => {
      call(port, '/readyz', false).then((r) => r.status === 200 && ready.add(r.worker ?? ''));
      return ready.size === 2;
    }, 60_000);
  }, 120_000);
  afterAll(async () => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('answers every request within seconds, forks a replacement, and /metrics still sums the workers', async () => {
    const outcomes: Outcome[] = [];
    let running = true;
    // keep-alive clients (one connection each) and clients that open a new connection per request
    const agents: (Agent | false)[] = [1, 2, 3].map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
    agents.push(false, false, false, false, false);
    const loops = agents.map(async (agent) => {
      while (running) outcomes.push(await call(port, '/v1/models/ctr:predict', agent, body));
    });
    await sleep(1500);
    const pid1 = Number(/worker 1 started \(pid (\d+)\)/.exec(log)?.[1]);
    expect(alive(pid1)).toBe(true);
    const killedMs = Date.now();
    process.kill(pid1, 'SIGKILL');
    // the replacement (worker 3) loads the export and answers; the load goes on meanwhile
    await waitFor(() => outcomes.some((o) => o.worker === '3'), 60_000);
    await sleep(1000);
    running = false;
    await Promise.all(loops);
    for (const a of agents) if (a) a.destroy();

    expect(log).toMatch(/worker 1 \(pid \d+\) died with signal SIGKILL; restarting in 1 s/);
    const hung = outcomes.filter((o) => o.ms >= HUNG_MS || /no answer/.test(o.error ?? ''));
    expect(hung, `requests without an answer in ${HUNG_MS} ms: ${JSON.stringify(hung.slice(0, 5))}`).toEqual([]);
    // errors are the killed worker's connections, seen at once: within 2 s of the kill (or of the send, if later;
    // a request sent before the kill may have waited its turn); any other answer is a 200
    const after = outcomes.filter((o) => o.sentMs >= killedMs);
    const failed = outcomes.filter((o) => o.status !== 200);
    const late = failed.filter((o) => o.status !== 0 || o.sentMs + o.ms - Math.max(o.sentMs, killedMs) >= 2000);
    expect(late, JSON.stringify({ killedMs, late: late.slice(0, 5) })).toEqual([]);
    expect(after.filter((o) => o.status === 200).length).toBeGreaterThan(50);
    expect(new Set(after.map((o) => o.worker)).has('2')).toBe(true);

    // /metrics: the live workers' predictions (worker 1's count died with it)
    const live = outcomes.filter((o) => o.status === 200 && o.worker !== '1').length;
    const m = await getText(port, '/metrics');
    expect(m.status).toBe(200);
    expect(sampleOf(m.text, 'lionctr_serve_requests_total', 'route="predict",code="200"')).toBe(live);
  }, 120_000);
});
