/**
 * The status page's history (src/serve/status-page/history.ts) and sampler (sampler.ts): the ring
 * buffer keeps the newest `capacity` samples oldest first with NaN as null and a stated size; the
 * sampler reads the quality gauges with and without the `scope` label, turns counters into rates
 * over the seconds between samples, and computes the served version's age from its manifest.
 */
import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics, createServeMetrics } from '../../../src/metrics/catalogue.ts';
import type { ModelRegistry } from '../../../src/serve/model-registry.ts';
import { SERIES, type Sample, StatusHistory } from '../../../src/serve/status-page/history.ts';
import { byScope, StatusSampler } from '../../../src/serve/status-page/sampler.ts';

const sample = (t: number): Sample =>
  Object.fromEntries(SERIES.map((n, i) => [n, n === 't' ? t : i % 3 === 0 ? Number.NaN : t * 10 + i])) as Sample;

/** A registry stand-in serving one version created at `createdMs` with event-time watermark `wm`. */
const served = (createdMs: number, wm: number | null) =>
  ({
    current: () => ({
      version: '7',
      manifest: { created_at: new Date(createdMs).toISOString(), event_time_watermark_ms: wm },
    }),
  }) as unknown as ModelRegistry;

describe('StatusHistory', () => {
  it('keeps the newest `capacity` samples, oldest first, NaN as null, 8 B x series x capacity', () => {
    const h = new StatusHistory(3);
    expect(h.bytes).toBe(8 * SERIES.length * 3);
    expect(h.length).toBe(0);
    expect(h.last()).toBeUndefined();
    expect(h.columns().t).toEqual([]);
    for (let t = 1; t <= 2; t++) h.push(sample(t));
    expect(h.columns().t).toEqual([1, 2]);
    for (let t = 3; t <= 8; t++) h.push(sample(t));
    expect(h.length).toBe(3);
    const c = h.columns();
    expect(c.t).toEqual([6, 7, 8]);
    // SERIES[1] (auc_window): t * 10 + 1; SERIES[3] (logloss_window): i % 3 === 0, NaN -> null
    expect(c.auc_window).toEqual([61, 71, 81]);
    expect(c.logloss_window).toEqual([null, null, null]);
    expect(h.last()?.t).toBe(8);
    expect(Number.isNaN(h.last()?.logloss_window)).toBe(true);
  });

  it('refuses a capacity below 1', () => {
    expect(() => new StatusHistory(0)).toThrow(RangeError);
    expect(() => new StatusHistory(2.5)).toThrow(RangeError);
  });
});

describe('byScope', () => {
  it('reads the gauge without the scope label as the window, with it by scope; other labels ignored', () => {
    expect(byScope([{ value: 0.7, labels: {} }])).toEqual({ window: 0.7, lifetime: Number.NaN });
    const labelled = [
      { value: 0.71, labels: { scope: 'window' } },
      { value: 0.69, labels: { scope: 'lifetime' } },
      { value: 0.5, labels: { scope: 'window', slot: 'C1' } },
    ];
    expect(byScope(labelled)).toEqual({ window: 0.71, lifetime: 0.69 });
    expect(byScope([])).toEqual({ window: Number.NaN, lifetime: Number.NaN });
  });
});

describe('StatusSampler', () => {
  it('samples quality, throughput rates and freshness from `run` metrics', async () => {
    const m = createMetrics();
    const history = new StatusHistory(10);
    const t0 = Date.parse('2026-12-01T00:00:00Z');
    const s = new StatusSampler({
      metrics: m.registry,
      models: served(t0 - 30_000, t0 - 90_000),
      history,
      intervalSeconds: 5,
    });
    expect(s.hasTrainer).toBe(true);
    m.trainExamples.inc(1000);
    await s.sample(t0);
    m.quality.scoped.auc.set({ scope: 'window' }, 0.75);
    m.quality.scoped.logloss.set({ scope: 'window' }, 0.45);
    m.quality.scoped.calibration.set({ scope: 'window' }, 1.02);
    m.freshness.set(3.5);
    m.trainExamples.inc(4000);
    m.serveRequests.inc({ route: 'predict', code: '200' }, 9);
    m.serveRequests.inc({ route: 'regress', code: '400' }, 1);
    m.serveRequests.inc({ route: 'status', code: '200' }, 50); // not a prediction
    await s.sample(t0 + 2000);
    const c = history.columns();
    expect(c.t).toEqual([t0 / 1000, t0 / 1000 + 2]);
    expect(c.auc_window).toEqual([null, 0.75]);
    expect(c.auc_lifetime).toEqual([null, null]);
    expect(c.logloss_window).toEqual([null, 0.45]);
    expect(c.calibration_window).toEqual([null, 1.02]);
    // rates: none at the first sample; then the increase over the 2 s between samples
    expect(c.train_examples_per_second).toEqual([null, 2000]);
    expect(c.predict_requests_per_second).toEqual([null, 5]);
    expect(c.train_event_lag_seconds).toEqual([null, 3.5]);
    expect(c.export_event_lag_seconds).toEqual([null, null]);
    expect(c.model_age_seconds).toEqual([30, 32]);
    expect(c.serve_event_lag_seconds).toEqual([90, 92]);
  });

  it('in `serve` (no trainer): serving figures only; a scope-labelled gauge gives window and lifetime', async () => {
    const m = createServeMetrics();
    const history = new StatusHistory(2);
    const s = new StatusSampler({ metrics: m.registry, models: served(0, null), history, intervalSeconds: 5 });
    expect(s.hasTrainer).toBe(false);
    const auc = new client.Gauge({
      name: 'lionctr_progressive_auc',
      help: 'x',
      labelNames: ['scope'],
      registers: [m.registry],
    });
    auc.set({ scope: 'window' }, 0.8);
    auc.set({ scope: 'lifetime' }, 0.78);
    await s.sample(1000);
    await s.sample(3000);
    await s.sample(5000);
    const c = history.columns();
    expect(c.t).toEqual([3, 5]);
    expect(c.auc_window).toEqual([0.8, 0.8]);
    expect(c.auc_lifetime).toEqual([0.78, 0.78]);
    expect(c.train_examples_per_second).toEqual([null, null]);
    expect(c.predict_requests_per_second).toEqual([0, 0]);
    expect(c.serve_event_lag_seconds).toEqual([null, null]);
  });

  it('start() samples at once and on its interval; stop() ends the timer', async () => {
    const history = new StatusHistory(100);
    const s = new StatusSampler({
      metrics: createServeMetrics().registry,
      models: served(0, 1),
      history,
      intervalSeconds: 0.02,
    });
    s.start();
    await new Promise((r) => setTimeout(r, 150));
    s.stop();
    await new Promise((r) => setTimeout(r, 10));
    const n = history.length;
    expect(n).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(history.length).toBe(n);
  });
});
