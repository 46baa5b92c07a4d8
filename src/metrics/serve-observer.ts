import type { ServeEmitter } from '../events/serve-events.ts';
import { setOrAbsent, type ServeMetrics } from './catalogue.ts';

/**
 * Subscribes the serving metrics to a model registry's events (src/events/serve-events.ts):
 * the version served (`lionctr_serve_model_version`, a delta's once applied), load failures
 * (`lionctr_serve_model_load_failures_total`) and delta exports applied and refused
 * (`lionctr_serve_deltas_applied_total`, `lionctr_serve_delta_apply_seconds`,
 * `lionctr_serve_delta_failures_total{reason}`, `lionctr_serve_deltas_superseded_total`) and the
 * newest event time in the served version (`lionctr_serve_event_time_lag_seconds`, computed at scrape
 * time: src/metrics/freshness-metrics.ts); the version gauge is absent until one is loaded.
 */
export function observeRegistry(events: ServeEmitter, m: ServeMetrics): void {
  // a version that is not a number (never written by lionctr) leaves the gauge absent, not 0
  events.on('loaded', (e) => {
    setOrAbsent(m.servedVersion, Number(e.version));
    m.servedEventTime.ms = typeof e.watermarkMs === 'number' && Number.isFinite(e.watermarkMs) ? e.watermarkMs : null;
  });
  events.on('loadFailed', () => m.serveLoadFailures.inc());
  events.on('deltaApplied', (e) => {
    m.serveDeltasApplied.inc();
    m.serveDeltaSeconds.observe(e.seconds);
  });
  events.on('deltaFailed', (e) => m.serveDeltaFailures.inc({ reason: e.reason }));
  events.on('deltaSuperseded', () => m.serveDeltasSuperseded.inc());
}
