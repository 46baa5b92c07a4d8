/**
 * README.md's metrics table equals the one rendered from the catalogue
 * (src/metrics/metrics-table.ts; `npm run docs:metrics` writes it): a metric added, renamed,
 * relabelled or re-documented in the catalogue without regenerating the README fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README_MARKERS, renderMetricsTable, withMetricsTable } from '../../../src/metrics/metrics-table.ts';

describe('README metrics table', () => {
  it('is the table rendered from the catalogue (run `npm run docs:metrics` when this fails)', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toContain(README_MARKERS.start);
    expect(withMetricsTable(readme, renderMetricsTable())).toBe(readme);
  });

  it('has a row per lionctr_ metric with its type and labels; the gate and freshness metrics are in it', () => {
    const table = renderMetricsTable();
    expect(table).toMatch(/^\| `lionctr_kafka_consumer_lag` \| gauge \| `group`, `topic`, `partition` \| run \| /m);
    expect(table).toMatch(/^\| `lionctr_serve_requests_total` \| counter \| `route`, `code` \| run, serve \| /m);
    // the primary's own counter of `serve --workers N`: in no single process's /metrics
    expect(table).toMatch(
      /^\| `lionctr_serve_worker_failures_total` \| counter \| `stage` \| serve \(workers > 1\) \| /m,
    );
    for (const m of [
      'lionctr_export_gate_decisions_total',
      'lionctr_export_event_time_lag_seconds',
      'lionctr_export_train_to_publish_seconds',
      'lionctr_serve_event_time_lag_seconds',
    ])
      expect(table).toContain(`| \`${m}\` |`);
    expect(table).toContain('`process_cpu_seconds_total`');
  });

  it('a README whose table differs from the catalogue fails the comparison', () => {
    const readme = readFileSync('README.md', 'utf8');
    const stale = readme.replace(/^\| `lionctr_serve_event_time_lag_seconds` .*\n/m, '');
    expect(stale).not.toBe(readme);
    expect(withMetricsTable(stale, renderMetricsTable())).not.toBe(stale);
    expect(() => withMetricsTable('no markers', '')).toThrow(/metrics-table:start/);
  });
});
