import client from 'prom-client';
import { BAD_REASONS } from '../ingest/bad-reasons.ts';

/**
 * The metric catalogue (DESIGN.md "Metrics"): prefix `lionctr_`, units in names, `_total`
 * for counters, `_seconds` for durations. One registry per process; components observe
 * events and update these, they are never threaded through hot loops.
 */
export function createMetrics(registry = new client.Registry()) {
  client.collectDefaultMetrics({ register: registry, prefix: 'lionctr_' });
  const registers = [registry];
  const counter = <T extends string>(name: string, help: string, labelNames: readonly T[] = []) =>
    new client.Counter<T>({ name, help, labelNames, registers });
  const gauge = <T extends string>(name: string, help: string, labelNames: readonly T[] = []) =>
    new client.Gauge<T>({ name, help, labelNames, registers });
  const histogram = <T extends string>(name: string, help: string, buckets: number[], labelNames: readonly T[] = []) =>
    new client.Histogram<T>({ name, help, buckets, labelNames, registers });
  const m = {
    registry,
    // ingest
    ingestMessages: counter('lionctr_ingest_messages_total', 'Messages/rows read by the source, by status (ok|bad)', [
      'status',
    ]),
    ingestBad: counter('lionctr_ingest_bad_messages_total', 'Bad messages/rows skipped, by reason', ['reason']),
    kafkaPauses: counter(
      'lionctr_kafka_backpressure_pauses_total',
      'Times the consumer paused fetching because kafka.queueMaxRows rows waited for training',
    ),
    kafkaLag: gauge(
      'lionctr_kafka_consumer_lag',
      'Messages between the partition high watermark and the next offset handed to training',
      ['topic', 'partition'],
    ),
    // train
    trainExamples: counter('lionctr_train_examples_total', 'Examples trained'),
    trainSteps: counter('lionctr_train_steps_total', 'Training steps (mini-batches)'),
    stepSeconds: histogram(
      'lionctr_train_step_seconds',
      'Wall time of one training step (featurize, forward, backward, optimizer updates)',
      [0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2],
    ),
    batchLoss: gauge('lionctr_train_batch_logloss', 'Logloss of the last batch before its update, nats'),
    progAuc: gauge('lionctr_progressive_auc', 'Progressive-validation AUC over the sliding window'),
    progLogloss: gauge('lionctr_progressive_logloss', 'Progressive-validation logloss over the sliding window, nats'),
    progNe: gauge('lionctr_progressive_normalized_entropy', 'Progressive-validation NE (logloss / base-rate entropy)'),
    progCalibration: gauge('lionctr_progressive_calibration', 'Progressive-validation calibration (sum p / sum y)'),
    throughput: gauge(
      'lionctr_train_examples_per_second',
      'Training throughput over the last progress interval, examples/s',
    ),
    embeddingRows: gauge('lionctr_embedding_rows', 'Embedding rows held, per slot', ['slot']),
    embeddingBytes: gauge('lionctr_embedding_bytes', 'Bytes allocated for rows + optimizer state, per slot', ['slot']),
    checkpointSeconds: histogram(
      'lionctr_checkpoint_seconds',
      'Wall time of one checkpoint (capture, write, fsync)',
      [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    ),
    checkpointBytes: gauge('lionctr_checkpoint_bytes', 'Size of the last checkpoint, bytes'),
    checkpointTimestamp: gauge('lionctr_checkpoint_last_timestamp_seconds', 'Unix time of the last durable checkpoint'),
    exportSeconds: histogram(
      'lionctr_export_seconds',
      'Wall time of one export',
      [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    ),
    exportTimestamp: gauge('lionctr_export_last_timestamp_seconds', 'Unix time of the last export'),
    freshness: gauge(
      'lionctr_train_event_time_lag_seconds',
      'Now minus the event time of the newest trained example, seconds',
    ),
    // serve
    serveRequests: counter('lionctr_serve_requests_total', 'Prediction API requests, by route and HTTP code', [
      'route',
      'code',
    ]),
    serveLatency: histogram(
      'lionctr_serve_request_seconds',
      'Prediction API latency',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      ['route'],
    ),
    serveInstances: histogram(
      'lionctr_serve_instances_per_request',
      'Instances per predict request',
      [1, 2, 5, 10, 50, 100, 500, 1000, 5000],
    ),
    servedVersion: gauge('lionctr_serve_model_version', 'Version (export id) of the model being served'),
    servedAge: gauge('lionctr_serve_model_age_seconds', 'Seconds since the served export was created'),
    serveLoadFailures: counter(
      'lionctr_serve_model_load_failures_total',
      'Exports that failed to load or verify (old version kept)',
    ),
  };
  // known bad-message reasons start at 0, so that rate() and alerts see them from the start
  for (const reason of BAD_REASONS) m.ingestBad.labels({ reason }).inc(0);
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
