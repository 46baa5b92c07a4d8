import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../src/metrics/catalogue.ts';

// Every metric the Grafana dashboard queries must exist in the catalogue (a renamed
// metric would otherwise leave a silently empty panel).
describe('ops/grafana dashboard', () => {
  it('queries only metrics of the catalogue', async () => {
    const dash = JSON.parse(readFileSync('ops/grafana/lionctr-dashboard.json', 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
    const used = new Set(exprs.flatMap((e) => e.match(/lionctr_[a-z_]+/g) ?? []).map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    const names = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    expect(used.size).toBeGreaterThan(8);
    for (const n of used) expect(names.has(n), n).toBe(true);
  });
});
