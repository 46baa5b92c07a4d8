import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics/catalogue.ts';

// Every metric the Grafana dashboard queries must exist in the catalogue (a renamed
// metric would otherwise leave a silently empty panel).
describe('ops/grafana dashboard', () => {
  it('queries only metrics of the catalogue', async () => {
    const dash = JSON.parse(readFileSync('ops/grafana/lionctr-dashboard.json', 'utf8')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
    const used = new Set(
      exprs.flatMap((e) => e.match(/lionctr_[a-z_]+/g) ?? []).map((n) => n.replace(/_(bucket|sum|count)$/, '')),
    );
    const names = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    expect(used.size).toBeGreaterThan(8);
    for (const n of used) expect(names.has(n), n).toBe(true);
  });

  it('the Prometheus alert rules query only metrics of the catalogue', async () => {
    const rules = readFileSync('ops/prometheus/alerts.yml', 'utf8');
    const exprs = [...rules.matchAll(/^\s*expr: (.*)$/gm)].map((m) => m[1]);
    expect(exprs.length).toBeGreaterThan(4);
    const used = new Set(
      exprs.flatMap((e) => e.match(/lionctr_[a-z_]+/g) ?? []).map((n) => n.replace(/_(bucket|sum|count)$/, '')),
    );
    const names = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    for (const n of used) expect(names.has(n), n).toBe(true);
    expect(readFileSync('ops/prometheus/prometheus.yml', 'utf8')).toMatch(/rule_files:\s*\n\s*- alerts\.yml/);
  });

  it('every alert has a runbook line (what to check, what to do); the alerts of issue 15 are there', () => {
    const blocks = readFileSync('ops/prometheus/alerts.yml', 'utf8').split(/^\s*- alert: /m).slice(1);
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
