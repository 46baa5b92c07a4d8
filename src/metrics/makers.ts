/**
 * @module The makers of one prom-client registry's metrics (src/metrics/catalogue.ts and its
 * parts): counters, gauges that are absent until set, histograms.
 */
import client from 'prom-client';

/** The makers of one registry's metrics. */
export function makers(registry: client.Registry) {
  const registers = [registry];
  return {
    counter: <T extends string>(name: string, help: string, labelNames: readonly T[] = []) =>
      new client.Counter<T>({ name, help, labelNames, registers }),
    /**
     * A gauge; without labels it is absent until set (prom-client would show 0). `aggregator`: how
     * `serve --workers N` combines the workers' values (AggregatorRegistry; default sum).
     */
    gauge: <T extends string>(
      name: string,
      help: string,
      labelNames: readonly T[] = [],
      aggregator?: client.Aggregator,
    ) => {
      const g = new client.Gauge<T>({ name, help, labelNames, registers, ...(aggregator ? { aggregator } : {}) });
      if (labelNames.length === 0) g.remove();
      return g;
    },
    histogram: <T extends string>(name: string, help: string, buckets: number[], labelNames: readonly T[] = []) =>
      new client.Histogram<T>({ name, help, buckets, labelNames, registers }),
  };
}
