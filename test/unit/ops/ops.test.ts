/**
 * The shipped ops files (ops/grafana, ops/prometheus) against the catalogue and issue 15's
 * rules for them: every metric the dashboard and the alerts query exists; every dashboard
 * expression is filtered by the `job` and `instance` variables and uses `$__rate_interval`, not
 * a fixed window; the variables come from lionctr_build_info; exports and checkpoints are
 * annotations; the rows are there; every alert has a runbook line.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import { dashboardExprs, readDashboard } from '../../helpers/prometheus.ts';

const catalogueNames = async () => new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
/** The lionctr_* metric names an expression uses (histogram series as their metric). */
const metricsOf = (exprs: string[]) =>
  new Set(exprs.flatMap((e) => e.match(/lionctr_[a-z_]+/g) ?? []).map((n) => n.replace(/_(bucket|sum|count)$/, '')));

describe('ops/grafana dashboard', () => {
  it('queries only metrics of the catalogue', async () => {
    const used = metricsOf(dashboardExprs().map((e) => e.expr));
    const names = await catalogueNames();
    expect(used.size).toBeGreaterThan(20);
    for (const n of used) expect(names.has(n), n).toBe(true);
  });

  it('every expression is filtered by $job and $instance and uses $__rate_interval, no fixed window', () => {
    const exprs = dashboardExprs();
    expect(exprs.length).toBeGreaterThan(40);
    for (const { title, expr } of exprs) {
      const selectors = expr.match(/\b[a-z_:]+\{[^}]*\}/g) ?? [];
      const bare = expr.replace(/\{[^}]*\}/g, '{}').match(/\b(lionctr|process|nodejs)_[a-z_]+\b(?!\{)/g);
      expect(bare, `${title}: a metric without a selector: ${expr}`).toBeNull();
      for (const sel of selectors) {
        expect(sel, `${title}: ${expr}`).toContain('job=~"$job"');
        expect(sel, `${title}: ${expr}`).toContain('instance=~"$instance"');
      }
      for (const w of expr.match(/\[[^\]]*\]/g) ?? []) expect(w, `${title}: ${expr}`).toBe('[$__rate_interval]');
    }
  });

  it('job and instance variables from lionctr_build_info, a Prometheus datasource variable', () => {
    const vars = Object.fromEntries(readDashboard().templating.list.map((v) => [v.name, v]));
    expect(vars.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(vars.job).toMatchObject({ type: 'query', query: 'label_values(lionctr_build_info, job)' });
    expect(vars.instance).toMatchObject({
      type: 'query',
      query: 'label_values(lionctr_build_info{job=~"$job"}, instance)',
    });
    const raw = readFileSync('ops/grafana/lionctr-dashboard.json', 'utf8');
    const variable = ['$', '{datasource}'].join('');
    // every datasource reference is the variable or Grafana's own (the built-in annotations)
    for (const m of raw.matchAll(/"datasource": \{\s*"type": "[^"]*",\s*"uid": "([^"]*)"/g))
      expect([variable, '-- Grafana --']).toContain(m[1]);
  });

  it('panels and rows do not overlap on the 24-column grid; ids are unique', () => {
    const panels = readDashboard().panels as unknown as {
      id: number;
      gridPos: Record<'x' | 'y' | 'w' | 'h', number>;
    }[];
    const taken = new Set<string>();
    for (const { id, gridPos: g } of panels) {
      expect(g.x + g.w, `panel ${id}`).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(taken.has(`${x},${y}`), `panel ${id} overlaps at ${x},${y}`).toBe(false);
          taken.add(`${x},${y}`);
        }
    }
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
  });

  it('annotations for exports and checkpoints; rows for ingest, quality, freshness, embeddings, serving', () => {
    const dash = readDashboard();
    const ann = Object.fromEntries(dash.annotations.list.map((a) => [a.name, a.target?.expr ?? '']));
    expect(ann.Exports).toMatch(/^changes\(lionctr_export_last_timestamp_seconds\{/);
    expect(ann.Checkpoints).toMatch(/^changes\(lionctr_checkpoint_last_timestamp_seconds\{/);
    const rows = dash.panels.filter((p) => p.type === 'row').map((p) => p.title);
    for (const r of ['Ingest', 'Training quality', 'Freshness', 'Embedding store', 'Serving'])
      expect(
        rows.some((t) => t?.startsWith(r)),
        r,
      ).toBe(true);
    const exprs = dashboardExprs(dash).map((e) => e.expr);
    for (const q of ['scope="window"', 'scope="lifetime"', 'lionctr_progressive_slice_auc'])
      expect(
        exprs.some((e) => e.includes(q)),
        q,
      ).toBe(true);
    for (const m of [
      'lionctr_train_event_time_lag_seconds',
      'lionctr_export_event_time_lag_seconds',
      'lionctr_export_train_to_publish_seconds_bucket',
      'lionctr_serve_model_age_seconds',
      'lionctr_serve_event_time_lag_seconds',
    ])
      expect(
        exprs.some((e) => e.includes(m)),
        m,
      ).toBe(true);
  });
});

describe('ops/grafana/provisioning', () => {
  it("a Prometheus data source (timeInterval = prometheus.yml's scrape interval) and a file dashboard provider", () => {
    const ds = readFileSync('ops/grafana/provisioning/datasources/lionctr.yaml', 'utf8');
    expect(ds).toMatch(/^apiVersion: 1$/m);
    expect(ds).toMatch(/^datasources:\n {2}- name: .+\n(?: {4}.*\n)*? {4}type: prometheus$/m);
    expect(ds).toMatch(/^ {4}access: proxy$/m);
    expect(ds).toMatch(/^ {4}isDefault: true$/m);
    const scrape = readFileSync('ops/prometheus/prometheus.yml', 'utf8').match(/scrape_interval: (\S+)/)?.[1];
    expect(ds.match(/timeInterval: (\S+)/)?.[1]).toBe(scrape);
    const dash = readFileSync('ops/grafana/provisioning/dashboards/lionctr.yaml', 'utf8');
    expect(dash).toMatch(/^apiVersion: 1$/m);
    expect(dash).toMatch(/^providers:\n {2}- name: .+$/m);
    expect(dash).toMatch(/^ {4}type: file$/m);
    expect(dash).toMatch(/^ {4}options:\n {6}path: \/\S+$/m);
  });
});

describe('ops/prometheus alerts', () => {
  it('query only metrics of the catalogue; prometheus.yml loads them', async () => {
    const rules = readFileSync('ops/prometheus/alerts.yml', 'utf8');
    const exprs = [...rules.matchAll(/^\s*expr: (.*)$/gm)].map((m) => m[1]);
    expect(exprs.length).toBeGreaterThan(4);
    const names = await catalogueNames();
    for (const n of metricsOf(exprs)) expect(names.has(n), n).toBe(true);
    expect(readFileSync('ops/prometheus/prometheus.yml', 'utf8')).toMatch(/rule_files:\s*\n\s*- alerts\.yml/);
    // LionctrTargetDown watches the job prometheus.yml scrapes
    const job = readFileSync('ops/prometheus/prometheus.yml', 'utf8').match(/job_name: (\S+)/)?.[1];
    expect(rules).toContain(`expr: up{job="${job}"} == 0`);
  });

  it('every alert has a runbook line (what to check, what to do); the alerts of issue 15 are there', () => {
    const blocks = readFileSync('ops/prometheus/alerts.yml', 'utf8')
      .split(/^\s*- alert: /m)
      .slice(1);
    const names = blocks.map((b) => b.split('\n')[0].trim());
    for (const b of blocks) expect(b, b.split('\n')[0]).toMatch(/\n\s+runbook: ".{40,}"\n/);
    for (const a of [
      'LionctrTargetDown',
      'LionctrTrainerDown',
      'LionctrKafkaLagGrowing',
      'LionctrExportStale',
      'LionctrProgressiveAucDrop',
      'LionctrCalibrationOff',
      'LionctrServeErrors',
      'LionctrServeLatencyHigh',
      'LionctrNonfiniteSteps',
    ])
      expect(names).toContain(a);
  });
});
