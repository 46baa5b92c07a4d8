import client from 'prom-client';
import { BAD_REASONS } from '../ingest/bad-reasons.ts';

/**
 * The metric catalogue (DESIGN.md "Metrics"): prefix `lionctr_`, units in names, `_total`
 * for counters, `_seconds` for durations. One registry per process; components observe
 * events and update these, they are never threaded through hot loops.
 */
export function createMetrics(registry = new client.Registry()) {
  client.collectDefaultMetrics({ register: registry, prefix: 'lionctr_' });
  const m = {
    registry,
    // ingest
    ingestMessages: new client.Counter({
      name: 'lionctr_ingest_messages_total',
      help: 'Messages/rows read by the source, by status (ok|bad)',
      labelNames: ['status'],
      registers: [registry],
    }),
    ingestBad: new client.Counter({
      name: 'lionctr_ingest_bad_messages_total',
      help: 'Bad messages/rows skipped, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    kafkaPauses: new client.Counter({
      name: 'lionctr_kafka_backpressure_pauses_total',
      help: 'Times the consumer paused fetching because kafka.queueMaxRows rows waited for training',
      registers: [registry],
    }),
    kafkaLag: new client.Gauge({
      name: 'lionctr_kafka_consumer_lag',
      help: 'Messages between the partition high watermark and the next offset handed to training',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
    // train
    trainExamples: new client.Counter({
      name: 'lionctr_train_examples_total',
      help: 'Examples trained',
      registers: [registry],
    }),
    trainSteps: new client.Counter({
      name: 'lionctr_train_steps_total',
      help: 'Training steps (mini-batches)',
      registers: [registry],
    }),
    stepSeconds: new client.Histogram({
      name: 'lionctr_train_step_seconds',
      help: 'Wall time of one training step (featurize excluded)',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2],
      registers: [registry],
    }),
    batchLoss: new client.Gauge({
      name: 'lionctr_train_batch_logloss',
      help: 'Logloss of the last batch before its update, nats',
      registers: [registry],
    }),
    progAuc: new client.Gauge({
      name: 'lionctr_progressive_auc',
      help: 'Progressive-validation AUC over the sliding window',
      registers: [registry],
    }),
    progLogloss: new client.Gauge({
      name: 'lionctr_progressive_logloss',
      help: 'Progressive-validation logloss over the sliding window, nats',
      registers: [registry],
    }),
    progNe: new client.Gauge({
      name: 'lionctr_progressive_normalized_entropy',
      help: 'Progressive-validation NE (logloss / base-rate entropy)',
      registers: [registry],
    }),
    progCalibration: new client.Gauge({
      name: 'lionctr_progressive_calibration',
      help: 'Progressive-validation calibration (sum p / sum y)',
      registers: [registry],
    }),
    throughput: new client.Gauge({
      name: 'lionctr_train_examples_per_second',
      help: 'Training throughput over the last progress interval, examples/s',
      registers: [registry],
    }),
    embeddingRows: new client.Gauge({
      name: 'lionctr_embedding_rows',
      help: 'Embedding rows held, per slot',
      labelNames: ['slot'],
      registers: [registry],
    }),
    embeddingBytes: new client.Gauge({
      name: 'lionctr_embedding_bytes',
      help: 'Bytes allocated for rows + optimizer state, per slot',
      labelNames: ['slot'],
      registers: [registry],
    }),
    checkpointSeconds: new client.Histogram({
      name: 'lionctr_checkpoint_seconds',
      help: 'Wall time of one checkpoint (capture, write, fsync)',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
    checkpointBytes: new client.Gauge({
      name: 'lionctr_checkpoint_bytes',
      help: 'Size of the last checkpoint, bytes',
      registers: [registry],
    }),
    checkpointTimestamp: new client.Gauge({
      name: 'lionctr_checkpoint_last_timestamp_seconds',
      help: 'Unix time of the last durable checkpoint',
      registers: [registry],
    }),
    exportSeconds: new client.Histogram({
      name: 'lionctr_export_seconds',
      help: 'Wall time of one export',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
    exportTimestamp: new client.Gauge({
      name: 'lionctr_export_last_timestamp_seconds',
      help: 'Unix time of the last export',
      registers: [registry],
    }),
    freshness: new client.Gauge({
      name: 'lionctr_train_event_time_lag_seconds',
      help: 'Now minus the event time of the newest trained example, seconds',
      registers: [registry],
    }),
    // serve
    serveRequests: new client.Counter({
      name: 'lionctr_serve_requests_total',
      help: 'Prediction API requests, by route and HTTP code',
      labelNames: ['route', 'code'],
      registers: [registry],
    }),
    serveLatency: new client.Histogram({
      name: 'lionctr_serve_request_seconds',
      help: 'Prediction API latency',
      labelNames: ['route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    serveInstances: new client.Histogram({
      name: 'lionctr_serve_instances_per_request',
      help: 'Instances per predict request',
      buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000],
      registers: [registry],
    }),
    servedVersion: new client.Gauge({
      name: 'lionctr_serve_model_version',
      help: 'Version (export id) of the model being served',
      registers: [registry],
    }),
    servedAge: new client.Gauge({
      name: 'lionctr_serve_model_age_seconds',
      help: 'Seconds since the served export was created',
      registers: [registry],
    }),
    serveLoadFailures: new client.Counter({
      name: 'lionctr_serve_model_load_failures_total',
      help: 'Exports that failed to load or verify (old version kept)',
      registers: [registry],
    }),
  };
  // known bad-message reasons start at 0, so that rate() and alerts see them from the start
  for (const reason of BAD_REASONS) m.ingestBad.labels({ reason }).inc(0);
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
