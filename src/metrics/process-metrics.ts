/**
 * The metrics every lionctr process has (src/metrics/catalogue.ts composes them): prom-client's
 * default process and Node.js collectors under their standard names, and `lionctr_build_info`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import client from 'prom-client';

/** lionctr's version, from package.json (read once). */
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Sets how `serve --workers N` combines a registered metric's samples (prom-client `aggregator`). */
function setAggregator(registry: client.Registry, name: string, aggregator: client.Aggregator): void {
  const m = registry.getSingleMetric(name) as unknown as { aggregator: client.Aggregator } | undefined;
  if (m) m.aggregator = aggregator;
}

/**
 * Every process's metrics: the default process metrics under their standard names
 * (`process_*`, `nodejs_*`; no `_total` gauges) and `lionctr_build_info{version,backend} 1`
 * (the tfjs backend at scrape time, `none` before one is selected).
 */
export function processMetrics(registry: client.Registry): void {
  client.collectDefaultMetrics({ register: registry });
  // prom-client's nodejs_active_{handles,requests,resources}_total are gauges with a counter's suffix
  // (`promtool check metrics` rejects them); the per-type gauges without it stay (sum them for a total)
  for (const n of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`nodejs_active_${n}_total`);
  // `serve --workers N` combines the workers' samples (serve-cluster.ts): the fd limit is the same in each (not a
  // sum); the start time is the earliest, the primary's (prom-client omits it from a cluster's sum otherwise)
  setAggregator(registry, 'process_max_fds', 'first');
  setAggregator(registry, 'process_start_time_seconds', 'min');
  new client.Gauge({
    name: 'lionctr_build_info',
    help: 'lionctr version and tfjs backend (value 1)',
    labelNames: ['version', 'backend'],
    registers: [registry],
    aggregator: 'first',
    collect() {
      this.reset();
      this.set({ version: VERSION, backend: tf.getBackend() ?? 'none' }, 1);
    },
  });
}
