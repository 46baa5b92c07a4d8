/**
 * A real Prometheus (Debian's 2.42) with the shipped scrape config and rules, scraping a real
 * `lionctr run` (synthetic stream, tiny model) and a `lionctr serve` of its exports every
 * second: both targets up, both scrapes pass `promtool check metrics`, every dashboard and
 * rule expression (annotations included, Grafana's variables substituted as Grafana would) parses
 * through the HTTP API, the rules evaluate without error, the core panels return data (core:
 * every expression but those of NOT_CORE), the `job` and `instance` variables
 * list both targets, and the freshness figures read seconds (the synthetic stream's wall-clock
 * event times). Skipped with a message without prometheus/promtool; under CI=true that fails
 * instead.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dashboardExprs,
  findPromTools,
  freePort,
  grafanaSubstitute,
  instantQuery,
  promtool,
  ROOT,
  readDashboard,
  ruleExprs,
  testScrapeConfig,
} from '../helpers/prometheus.ts';

const ci = process.env.CI === 'true';
const tools = findPromTools();
if (!tools.prometheus && !ci) console.warn(`Prometheus scrape test skipped: ${tools.why}`);

/**
 * Expressions that need not return data here: Kafka's (the synthetic source has none), the
 * publish gate's held-out AUC (set at its first judged decision, which a run of seconds may not
 * reach), and the annotations (events: an export within the last 5 s, or none).
 */
const NOT_CORE = [/lionctr_kafka_consumer_lag/, /lionctr_export_gate_auc/, /^changes\(/];
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LIONCTR_')));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PREDICT = JSON.stringify({
  instances: [
    { C1: '1', C2: '3', I1: 4 },
    { C1: '2', I5: 120 },
  ],
});

describe.skipIf(!tools.prometheus && !ci)('Prometheus scraping lionctr run + serve', () => {
  let dir: string;
  const children: { name: string; proc: ChildProcess; log: string }[] = [];
  const ports = { run: 0, serve: 0, prom: 0 };
  const url = (port: number) => `http://127.0.0.1:${port}`;
  const logs = () => children.map((c) => `--- ${c.name} (exit ${c.proc.exitCode}):\n${c.log.slice(-3000)}`).join('\n');

  function start(name: string, cmd: string, args: string[]) {
    const c = { name, proc: spawn(cmd, args, { cwd: ROOT, env: cleanEnv }), log: '' };
    c.proc.stdout?.on('data', (d) => {
      c.log += d;
    });
    c.proc.stderr?.on('data', (d) => {
      c.log += d;
    });
    children.push(c);
  }
  /** Polls `what` every 200 ms until true; throws with the children's logs after `ms`. */
  async function until(label: string, what: () => Promise<boolean>, ms: number) {
    for (const t0 = Date.now(); !(await what().catch(() => false)); await sleep(200)) {
      if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${label}\n${logs()}`);
      const dead = children.find((c) => c.proc.exitCode !== null);
      if (dead) throw new Error(`${dead.name} exited while waiting for ${label}\n${logs()}`);
    }
  }
  const ready = (port: number) => () => fetch(`${url(port)}/readyz`).then((r) => r.ok);
  const predict = (port: number) =>
    fetch(`${url(port)}/v1/models/ctr:predict`, { method: 'POST', body: PREDICT }).then((r) => r.status);

  beforeAll(async () => {
    if (!tools.prometheus) throw new Error(tools.why);
    const t0 = Date.now();
    dir = mkdtempSync(join(tmpdir(), 'lionctr-prom-'));
    ports.run = await freePort();
    ports.serve = await freePort();
    ports.prom = await freePort();
    const sets = {
      'train.batchSize': 256,
      'model.hidden': [16],
      'schema.embeddingDim': 4,
      'train.progressSeconds': 1,
      'train.progressive.window': 2000,
      'train.progressive.sliceSlots': ['C6'],
      'export.intervalSeconds': 2,
      'checkpoint.intervalSeconds': 2,
      'export.deltaIntervalSeconds': 1,
      'serve.drainSeconds': 0,
      'log.level': 'warn',
    };
    const setArgs = Object.entries(sets).flatMap(([k, v]) => ['--set', `${k}=${JSON.stringify(v)}`]);
    const exports = join(dir, 'exports');
    start('run', process.execPath, [
      'bin/lionctr.mjs',
      'run',
      '--port',
      `${ports.run}`,
      '--export-dir',
      exports,
      ...setArgs,
    ]);
    // Prometheus scrapes from the start (up 0 until a target listens)
    writeFileSync(join(dir, 'prometheus.yml'), testScrapeConfig([ports.run, ports.serve].map((p) => `127.0.0.1:${p}`)));
    start(tools.prometheus, tools.prometheus, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${ports.prom}`,
      '--log.level=warn',
    ]);
    // serve waits for run's first export (it polls the exports dir); starting both at once saves its startup
    start('serve', process.execPath, [
      'bin/lionctr.mjs',
      'serve',
      '--port',
      `${ports.serve}`,
      '--export-dir',
      exports,
      '--set',
      'serve.pollSeconds=0.5',
      '--set',
      'log.level=warn',
    ]);
    await until('lionctr run ready (first export loaded)', ready(ports.run), 60_000);
    const runReady = Date.now() - t0;
    await until('lionctr serve ready', ready(ports.serve), 60_000);
    await until('prometheus ready', () => fetch(`${url(ports.prom)}/-/ready`).then((r) => r.ok), 30_000);
    const bothReady = Date.now() - t0;
    // predictions on both, and scrapes until rates over 5 s windows have points on both targets
    const upBoth = async () => {
      await Promise.all([predict(ports.run), predict(ports.serve)]);
      const q = await instantQuery(url(ports.prom), 'sum_over_time(up[1m]) >= 5 and up == 1');
      return q.series === 2;
    };
    await until('5 successful scrapes of both targets', upBoth, 45_000);
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      `prometheus-scrape: run ready at ${s(runReady)}, serve and prometheus at ${s(bothReady)}, ` +
        `5 scrapes of both at ${s(Date.now() - t0)}`,
    );
  }, 150_000);

  afterAll(async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((res) => {
            if (c.proc.exitCode !== null || c.proc.signalCode !== null) return res();
            c.proc.once('exit', () => res());
            c.proc.kill('SIGKILL');
          }),
      ),
    );
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('promtool check metrics is clean on both scrapes', async () => {
    for (const port of [ports.run, ports.serve]) {
      const text = await (await fetch(`${url(port)}/metrics`)).text();
      const r = promtool(tools, ['check', 'metrics'], text);
      expect(r.status, `${port}: ${r.output}`).toBe(0);
      expect(r.output.trim()).toBe('');
    }
  });

  it('every dashboard and rule expression parses; the core panels return data', async () => {
    const dash = dashboardExprs();
    const rules = ruleExprs();
    expect(dash.length).toBeGreaterThan(40);
    expect(rules.length).toBeGreaterThanOrEqual(6);
    const empty: string[] = [];
    for (const { title, expr } of dash) {
      const q = await instantQuery(url(ports.prom), grafanaSubstitute(expr));
      expect(q, `${title}: ${expr}`).toMatchObject({ status: 'success', error: '' });
      const core = !NOT_CORE.some((r) => r.test(expr));
      if (q.series === 0 && core) empty.push(`${title}: ${expr}`);
    }
    expect(empty, 'core panels without data').toEqual([]);
    for (const { title, expr } of rules) {
      const q = await instantQuery(url(ports.prom), expr);
      expect(q, `${title}: ${expr}`).toMatchObject({ status: 'success', error: '' });
    }
  });

  it('Prometheus loaded every alert rule and evaluates each without error', async () => {
    const body = (await (await fetch(`${url(ports.prom)}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const loaded = body.data.groups.flatMap((g) => g.rules);
    expect(loaded.map((r) => r.name).sort()).toEqual(
      ruleExprs()
        .map((r) => r.title)
        .sort(),
    );
    for (const r of loaded) expect(r, r.name).toMatchObject({ health: 'ok' });
  });

  it("the dashboard's job and instance variables list both targets", async () => {
    const values = async (label: string, match: string) => {
      const q = new URLSearchParams({ 'match[]': match });
      const r = (await (await fetch(`${url(ports.prom)}/api/v1/label/${label}/values?${q}`)).json()) as {
        data: string[];
      };
      return r.data;
    };
    const vars = Object.fromEntries(readDashboard().templating.list.map((v) => [v.name, String(v.query ?? '')]));
    // label_values(<selector>, <label>) as Grafana's Prometheus data source sends it
    const parse = (q: string) => q.match(/^label_values\((.+), (\w+)\)$/)!.slice(1);
    const [jobSel, jobLabel] = parse(vars.job);
    expect(await values(jobLabel, jobSel)).toEqual(['lionctr']);
    const [instSel, instLabel] = parse(vars.instance);
    expect((await values(instLabel, grafanaSubstitute(instSel))).sort()).toEqual(
      [ports.run, ports.serve].map((p) => `127.0.0.1:${p}`).sort(),
    );
  });

  it('freshness reads seconds: event -> trained, exported and served', async () => {
    for (const m of [
      'lionctr_train_event_time_lag_seconds',
      'lionctr_export_event_time_lag_seconds',
      'lionctr_serve_event_time_lag_seconds',
    ]) {
      const q = await instantQuery(url(ports.prom), `${m} < 60`);
      const all = await instantQuery(url(ports.prom), m);
      expect(all.series, m).toBeGreaterThanOrEqual(1);
      expect(q.series, `${m} under 60 s on every target`).toBe(all.series);
    }
  });
});
