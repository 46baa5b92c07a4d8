/**
 * Names follow Prometheus' conventions as `promtool check metrics` checks them: counters end in
 * `_total`, no other type does (prom-client's default nodejs_active_*_total gauges did; the
 * Prometheus scrape test runs promtool itself on real scrapes).
 */
import { describe, expect, it } from 'vitest';
import { createMetrics, createServeMetrics, createTrainMetrics } from '../../../src/metrics/catalogue.ts';

describe('metric names and types', () => {
  for (const [kind, make] of [
    ['run', createMetrics],
    ['serve', createServeMetrics],
    ['trainer', createTrainMetrics],
  ] as const) {
    it(`${kind}: _total on counters only, every counter with it`, async () => {
      const metrics = await make().registry.getMetricsAsJSON();
      const bad = metrics
        .filter((m) => (String(m.type) === 'counter') !== m.name.endsWith('_total'))
        .map((m) => `${m.name} (${m.type})`);
      expect(bad).toEqual([]);
      expect(metrics.map((m) => m.name)).toEqual(expect.arrayContaining(['nodejs_active_handles']));
    });
  }
});
