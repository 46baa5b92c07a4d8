import type { ServeEmitter } from '../events/serve-events.ts';
import type { Metrics } from './catalogue.ts';

/**
 * Subscribes the serving metrics to a model registry's events (src/events/serve-events.ts):
 * the version served (`lionctr_serve_model_version`) and load failures
 * (`lionctr_serve_model_load_failures_total`).
 */
export function observeRegistry(events: ServeEmitter, m: Metrics): void {
  events.on('loaded', (e) => m.servedVersion.set(Number(e.version) || 0));
  events.on('loadFailed', () => m.serveLoadFailures.inc());
}
