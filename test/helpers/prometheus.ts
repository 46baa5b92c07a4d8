/**
 * Prometheus for the ops tests (test/integration/prometheus-*.test.ts): where Debian's
 * `prometheus` package put `promtool` and `prometheus` (.ci/run installs it), or why they are
 * absent (without them the tests skip with that message, and fail under CI=true); the shipped
 * scrape config rewritten for a test, the dashboard's and the rules' expressions, queries.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');
/** The shipped Prometheus files. */
export const PROM_DIR = resolve(ROOT, 'ops/prometheus');

/** Paths of promtool and prometheus, or why they cannot be used. */
export interface PromTools {
  promtool: string | null;
  prometheus: string | null;
  why: string;
}

/** The first `name` on PATH that answers `--version`, or null. */
function onPath(name: string): string | null {
  const r = spawnSync(name, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0 ? name : null;
}

/** Finds promtool and prometheus on PATH; never throws. */
export function findPromTools(): PromTools {
  const promtool = onPath('promtool');
  const prometheus = onPath('prometheus');
  const missing = [promtool ? '' : 'promtool', prometheus ? '' : 'prometheus'].filter(Boolean);
  const why = missing.length
    ? `${missing.join(' and ')} not on PATH (Debian: apt-get install prometheus; .ci/run does it)`
    : '';
  return { promtool, prometheus, why };
}

/** Runs promtool with `args` (cwd: the repository root, `input` on stdin); its status and output. */
export function promtool(tools: PromTools, args: string[], input?: string) {
  if (!tools.promtool) throw new Error(tools.why);
  const r = spawnSync(tools.promtool, args, { cwd: ROOT, input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const { port } = s.address() as { port: number };
  await new Promise((res) => s.close(res));
  return port;
}

/**
 * The shipped prometheus.yml for a test: scrape and rule evaluation every second, the targets
 * replaced by `targets` (host:port), the rule file by its absolute path. Throws when the shipped
 * file no longer has what is replaced (the test would silently scrape nothing).
 */
export function testScrapeConfig(targets: string[]): string {
  let text = readFileSync(join(PROM_DIR, 'prometheus.yml'), 'utf8');
  const swaps: [RegExp, string][] = [
    [/scrape_interval: \S+/, 'scrape_interval: 1s\n  evaluation_interval: 1s'],
    [/targets: \[[^\]]*\]/, `targets: ${JSON.stringify(targets)}`],
    [/- alerts\.yml/, `- ${JSON.stringify(join(PROM_DIR, 'alerts.yml'))}`],
  ];
  for (const [from, to] of swaps) {
    if (!from.test(text)) throw new Error(`ops/prometheus/prometheus.yml has no ${from}`);
    text = text.replace(from, to);
  }
  return text;
}

/** The Grafana dashboard's JSON (ops/grafana/lionctr-dashboard.json). */
export function readDashboard(): DashboardJson {
  return JSON.parse(readFileSync(join(ROOT, 'ops/grafana/lionctr-dashboard.json'), 'utf8')) as DashboardJson;
}

/** What the ops tests read of the dashboard's JSON (test/helpers/grafana-dashboard.ts has its full type). */
export interface DashboardJson {
  panels: DashboardPanel[];
  templating: { list: { name: string; type: string; query?: unknown }[] };
  annotations: { list: { name: string; target?: { expr?: string } }[] };
}
/** A panel or row of the dashboard. */
export interface DashboardPanel {
  type: string;
  title?: string;
  targets?: { expr?: string; legendFormat?: string }[];
  panels?: DashboardPanel[];
}

/**
 * Every expression of the Grafana dashboard, with its panel's title (nested rows included), and
 * of its annotations (title `annotation <name>`).
 */
export function dashboardExprs(dash: DashboardJson = readDashboard()): { title: string; expr: string }[] {
  const out: { title: string; expr: string }[] = [];
  const walk = (ps: DashboardPanel[]) => {
    for (const p of ps) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ title: p.title ?? '', expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(dash.panels);
  for (const a of dash.annotations?.list ?? [])
    if (a.target?.expr) out.push({ title: `annotation ${a.name}`, expr: a.target.expr });
  return out;
}

/** Every `expr:` of alerts.yml, with its alert's name. */
export function ruleExprs(): { title: string; expr: string }[] {
  const text = readFileSync(join(PROM_DIR, 'alerts.yml'), 'utf8');
  return [...text.matchAll(/- alert: (\w+)\n\s*expr: (.*)/g)].map((m) => ({ title: m[1], expr: m[2] }));
}

/**
 * A Grafana expression as Grafana sends it: `$__rate_interval` 5s, `$__interval` 1s, `$__range`
 * 1m, every template variable (`$job`, `${instance}`, `[[x]]`) the regex `.+` (an equality
 * matcher on one becomes a regex matcher, as for Grafana's multi-value "All").
 */
export function grafanaSubstitute(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5s')
    .replaceAll('$__interval', '1s')
    .replaceAll('$__range', '1m')
    .replace(/(\w+)\s*=\s*"(\$\w+|\$\{\w+\}|\[\[\w+\]\])"/g, '$1=~"$2"')
    .replace(/\$\{\w+\}|\[\[\w+\]\]|\$\w+/g, '.+');
}

/** Result of a Prometheus instant query: status, error, series count. */
export async function instantQuery(base: string, expr: string) {
  const r = await fetch(`${base}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  const body = (await r.json()) as { status: string; error?: string; data?: { result: unknown[] } };
  return { status: body.status, error: body.error ?? '', series: body.data?.result.length ?? 0 };
}
