import type { ServeEmitter } from '../events/serve-events.ts';
import { setOrAbsent, type ServeMetrics } from './catalogue.ts';

/**
 * Subscribes the serving metrics to a model registry's events (src/events/serve-events.ts):
 * the version served (`lionctr_serve_model_version`) and load failures
 * (`lionctr_serve_model_load_failures_total`); the version gauge is absent until one is loaded.
 */
export function observeRegistry(events: ServeEmitter, m: ServeMetrics): void {
  // a version that is not a number (never written by lionctr) leaves the gauge absent, not 0
  events.on('loaded', (e) => setOrAbsent(m.servedVersion, Number(e.version)));
  events.on('loadFailed', () => m.serveLoadFailures.inc());
}
