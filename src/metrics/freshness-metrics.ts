/**
 * @module Freshness metrics, part of the catalogue (src/metrics/catalogue.ts), and what updates
 * them: how old the newest example is at each stage of its way, event -> trained
 * (`lionctr_train_event_time_lag_seconds`, in the catalogue), event -> exported and trained ->
 * exported (at each publish, here), exported -> served (`lionctr_serve_model_age_seconds`) and
 * event -> served (here). "Event time" is the source's event_time_ms (a Kafka message's
 * timestamp field, a file's ts column, the synthetic stream's `source.synthetic.eventTime`).
 */
import client from 'prom-client';
import type { TrainEmitter } from '../events/train-events.ts';
import { makers } from './makers.ts';

/** Buckets of lionctr_export_train_to_publish_seconds: an export every 60 s by default, deltas every 10 s. */
const TRAIN_TO_PUBLISH_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** The training side's freshness metrics (export publishes). */
export function trainFreshnessMetrics(registry: client.Registry) {
  const { gauge, histogram } = makers(registry);
  return {
    exportEventLag: gauge(
      'lionctr_export_event_time_lag_seconds',
      'At the last publish (full or delta export): publish wall time minus the newest event time in that export, ' +
        'seconds (event -> exported)',
    ),
    trainToPublish: histogram(
      'lionctr_export_train_to_publish_seconds',
      'Per publish (full or delta export): publish wall time minus the wall time the newest example in it was ' +
        'trained, seconds (trained -> exported)',
      TRAIN_TO_PUBLISH_BUCKETS,
    ),
  };
}

/** The event time (ms since the epoch) of the newest example in the served version; null = none or unknown. */
export interface ServedEventTime {
  ms: number | null;
}

/**
 * The serving side's freshness metrics: `lionctr_serve_event_time_lag_seconds`, computed at
 * scrape time from `servedEventTime.ms` (set by observeRegistry on each swap), absent while that
 * is null. With `serve --workers N` the largest (the stalest worker's).
 */
export function serveFreshnessMetrics(registry: client.Registry) {
  const servedEventTime: ServedEventTime = { ms: null };
  const serveEventLag = new client.Gauge({
    name: 'lionctr_serve_event_time_lag_seconds',
    help: 'Now minus the newest event time in the served version (its manifest watermark), seconds (event -> served)',
    registers: [registry],
    aggregator: 'max',
    collect() {
      if (servedEventTime.ms === null) this.remove();
      else this.set((Date.now() - servedEventTime.ms) / 1000);
    },
  });
  serveEventLag.remove();
  return { serveEventLag, servedEventTime };
}

/** The metrics observeTrainFreshness updates. */
export type TrainFreshnessMetrics = ReturnType<typeof trainFreshnessMetrics>;

/**
 * Subscribes the export freshness metrics to a trainer's events. Publish time: a delta is
 * published when written (`delta`); a full export when the publish gate says so (`gate`, not
 * `refused`) once a gate event was seen, else when written (`export`: no gate, or the first
 * export of a run, which is published at once; a resumed run's first export, which its gate may
 * hold or refuse, is counted at its write too). The newest example of an export was trained at
 * the last `step` before it (the trainer does not step while it writes or its gate holds rows).
 */
export function observeTrainFreshness(events: TrainEmitter, m: TrainFreshnessMetrics): void {
  let lastStepMs: number | null = null;
  let gateSeen = false;
  const waiting = new Map<string, { watermarkMs: number | null; trainedMs: number | null }>();
  const published = (e: { watermarkMs: number | null; trainedMs: number | null }) => {
    const now = Date.now();
    if (e.watermarkMs !== null) m.exportEventLag.set((now - e.watermarkMs) / 1000);
    if (e.trainedMs !== null) m.trainToPublish.observe((now - e.trainedMs) / 1000);
  };
  events.on('step', () => {
    lastStepMs = Date.now();
  });
  events.on('export', (e) => {
    const x = { watermarkMs: e.watermarkMs, trainedMs: lastStepMs };
    if (gateSeen) waiting.set(e.version, x);
    else published(x);
  });
  events.on('gate', (e) => {
    gateSeen = true;
    const x = waiting.get(e.version);
    waiting.clear(); // a decision about one candidate ends the wait of any older one
    if (x && e.decision !== 'refused') published(x);
  });
  events.on('delta', (e) => published({ watermarkMs: e.watermarkMs, trainedMs: lastStepMs }));
}
