/**
 * The metric catalogue (DESIGN.md "Metrics"): prefix `lionctr_`, units in names, `_total`
 * for counters, `_seconds` for durations. One registry per process, holding only the metrics
 * of what the process runs: createServeMetrics for `serve`, createTrainMetrics for a trainer
 * (ingest + train), createMetrics for `run` (both). Components observe events and update
 * these, they are never threaded through hot loops.
 *
 * No made-up figures: a gauge without a label is absent from /metrics until it has a value
 * and again whenever its figure is undefined (setOrAbsent: AUC of a window without clicks,
 * anything over NaN predictions); counters and histograms start at 0 for every label set
 * they will see (bad-message reasons; serving routes x codes), so that rate() sees the
 * first event. With `serve --workers N` a scrape answers the workers' metrics combined
 * (src/cli/commands/serve-cluster.ts): counters and histograms summed, the gauges that are no
 * sums with their own `aggregator`.
 */
import client from 'prom-client';
import { DELTA_FAILURE_REASONS } from '../events/serve-events.ts';
import { BAD_REASONS } from '../ingest/bad-reasons.ts';
import { serveFreshnessMetrics, trainFreshnessMetrics } from './freshness-metrics.ts';
import { gateMetrics } from './gate-metrics.ts';
import { kafkaResetMetrics } from './kafka-reset-metrics.ts';
import { makers } from './makers.ts';
import { processMetrics } from './process-metrics.ts';
import { qualityMetrics } from './quality-metrics.ts';

export { GATE_DECISIONS, GATE_REASONS } from './gate-metrics.ts';

/**
 * Route labels of the serving request metrics (the prediction endpoint, src/serve, labels
 * every request with one: `extras` = lionctr's own status path, `unknown` = no route or a
 * framework error).
 */
export const SERVE_ROUTES = ['predict', 'classify', 'regress', 'status', 'metadata', 'extras', 'unknown'] as const;
/** HTTP codes whose request counters start at 0 for every route. */
export const SERVE_CODES = ['200', '400', '404', '405', '413', '500', '503'] as const;
/** A serving route label. */
export type ServeRoute = (typeof SERVE_ROUTES)[number];

/** Sets an unlabelled gauge to `v`, or removes its sample when `v` is NaN or infinite (undefined). */
export function setOrAbsent(g: client.Gauge, v: number | null | undefined): void {
  if (typeof v === 'number' && Number.isFinite(v)) g.set(v);
  else g.remove();
}

/** Ingest metrics (sources, Kafka); bad-message reasons start at 0. */
function ingestMetrics(registry: client.Registry) {
  const { counter, gauge } = makers(registry);
  const m = {
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
      'Messages between the partition high watermark and the next offset handed to training, by consumer group',
      ['group', 'topic', 'partition'],
    ),
    ...kafkaResetMetrics(registry),
  };
  // known bad-message reasons and both statuses start at 0, so that rate() and alerts see them from the start
  for (const reason of BAD_REASONS) m.ingestBad.labels({ reason }).inc(0);
  for (const status of ['ok', 'bad']) m.ingestMessages.labels({ status }).inc(0);
  return m;
}

/** Training metrics (steps, progressive validation, tables, checkpoints, exports). */
function trainMetrics(registry: client.Registry) {
  const { counter, gauge, histogram } = makers(registry);
  const durations = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
  return {
    trainExamples: counter('lionctr_train_examples_total', 'Examples trained (those of skipped steps included)'),
    trainSteps: counter('lionctr_train_steps_total', 'Training steps (mini-batches, skipped ones included)'),
    trainNonfinite: counter(
      'lionctr_train_nonfinite_steps_total',
      'Steps whose loss or gradients were NaN or infinite; their update was skipped',
    ),
    stepSeconds: histogram(
      'lionctr_train_step_seconds',
      'Wall time of one training step (featurize, forward, backward, optimizer updates)',
      [0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2],
    ),
    batchLoss: gauge('lionctr_train_batch_logloss', 'Logloss of the last batch before its update, nats'),
    ...qualityMetrics(registry),
    throughput: gauge(
      'lionctr_train_examples_per_second',
      'Training throughput over the last progress interval, examples/s',
    ),
    embeddingRows: gauge('lionctr_embedding_rows', 'Embedding rows held, per slot', ['slot']),
    embeddingBytes: gauge(
      'lionctr_embedding_bytes',
      'Bytes allocated for rows + optimizer state + admission sketch, per slot',
      ['slot'],
    ),
    embeddingAdmitted: counter('lionctr_embedding_admitted_total', 'Embedding rows made while training, per slot', [
      'slot',
    ]),
    embeddingEvicted: counter(
      'lionctr_embedding_evicted_total',
      'Embedding rows removed by model.eviction (not seen for ttlSeconds of event time) or by the memory ' +
        'budget (least recently updated rows of a full table), per slot',
      ['slot'],
    ),
    embeddingRejected: counter(
      'lionctr_embedding_rejected_total',
      'Training lookups of new ids given no row (refused by model.admission, or their table full at the ' +
        'memory budget; read as a zero row, not updated), per slot',
      ['slot'],
    ),
    checkpointSeconds: histogram(
      'lionctr_checkpoint_seconds',
      'Wall time of one checkpoint (capture, write, fsync)',
      durations,
    ),
    checkpointBytes: gauge('lionctr_checkpoint_bytes', 'Size of the last checkpoint, bytes'),
    checkpointTimestamp: gauge('lionctr_checkpoint_last_timestamp_seconds', 'Unix time of the last durable checkpoint'),
    exportSeconds: histogram('lionctr_export_seconds', 'Wall time of one export', durations),
    exportTimestamp: gauge('lionctr_export_last_timestamp_seconds', 'Unix time of the last export'),
    exportLockHeld: gauge(
      'lionctr_export_lock_held',
      'With rows.store=redis and an export dir: 1 while this trainer holds the export lock (writes the exports), ' +
        'else 0; absent otherwise',
    ),
    ...gateMetrics(registry),
    deltaSeconds: histogram(
      'lionctr_export_delta_seconds',
      'Wall time of one delta export (changed rows + dense tower, fsync)',
      durations,
    ),
    deltaRows: gauge('lionctr_export_delta_rows', 'Changed embedding rows in the last delta export (all slots)'),
    freshness: gauge(
      'lionctr_train_event_time_lag_seconds',
      'Now minus the event time of the newest trained example, seconds',
    ),
    ...writeMetrics(registry),
    ...trainFreshnessMetrics(registry),
  };
}

/** Kinds of trainer writes that can fail and are retried (label `kind`). */
export const WRITE_KINDS = ['export', 'checkpoint', 'delta'] as const;
/** Trainer write failures (a full disk: src/train/write-retries.ts), at 0 for every kind from the start. */
function writeMetrics(registry: client.Registry) {
  const trainWriteFailures = makers(registry).counter(
    'lionctr_train_write_failures_total',
    'Checkpoint, export and delta writes that failed (disk full, I/O error; retried with backoff), by kind',
    ['kind'],
  );
  for (const kind of WRITE_KINDS) trainWriteFailures.labels({ kind }).inc(0);
  return { trainWriteFailures };
}

/** `run`'s trainer supervisor (src/cli/trainer-supervisor.ts): whether its trainer is up; its restarts. */
function supervisorMetrics(registry: client.Registry) {
  const { counter, gauge } = makers(registry);
  return {
    trainUp: gauge('lionctr_train_up', '1 while the trainer of `run` reads its source, 0 while it is down'),
    trainRestarts: counter('lionctr_train_restarts_total', 'Times the trainer of `run` was restarted after a failure'),
  };
}

/**
 * Serving metrics; request counters and latency histograms start at 0 for SERVE_ROUTES x
 * SERVE_CODES, delta failures for every reason.
 */
function serveMetrics(registry: client.Registry) {
  const { counter, gauge, histogram } = makers(registry);
  const m = {
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
    serveUnknownSlots: counter(
      'lionctr_serve_unknown_slots_total',
      'Values of request keys that are not slots, dropped under schema.unknownSlots=ignore (under reject: 400)',
    ),
    serveInstances: histogram(
      'lionctr_serve_instances_per_request',
      'Instances per predict request',
      [1, 2, 5, 10, 50, 100, 500, 1000, 5000],
    ),
    // with serve --workers N: the oldest worker's (min version, max age), so a stale worker shows
    servedVersion: gauge('lionctr_serve_model_version', 'Version (export id) of the model being served', [], 'min'),
    servedAge: gauge('lionctr_serve_model_age_seconds', 'Seconds since the served export was created', [], 'max'),
    serveLoadFailures: counter(
      'lionctr_serve_model_load_failures_total',
      'Exports that failed to load or verify (old version kept)',
    ),
    serveDeltasApplied: counter('lionctr_serve_deltas_applied_total', 'Delta exports applied to the served model'),
    serveDeltaFailures: counter(
      'lionctr_serve_delta_failures_total',
      'Delta exports refused, by reason (gap, checksum, broken_chain, bad_delta, nonfinite); no more deltas of ' +
        'that export are applied until the next full export',
      ['reason'],
    ),
    serveDeltasSuperseded: counter(
      'lionctr_serve_deltas_superseded_total',
      'Delta exports not applied because their full export was pruned while they were read (superseded by a ' +
        'newer full export; not a failure)',
    ),
    serveDeltaSeconds: histogram(
      'lionctr_serve_delta_apply_seconds',
      'Seconds from a delta export found to its version served (read, verify, wait for chunked requests, apply)',
      [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ),
    ...serveFreshnessMetrics(registry),
  };
  for (const reason of DELTA_FAILURE_REASONS) m.serveDeltaFailures.labels({ reason }).inc(0);
  for (const route of SERVE_ROUTES) {
    m.serveLatency.zero({ route });
    for (const code of SERVE_CODES) m.serveRequests.labels({ route, code }).inc(0);
  }
  return m;
}

/** Stages at which a worker of `serve --workers N` can fail (label `stage`): before listening, after. */
export const WORKER_FAILURE_STAGES = ['start', 'running'] as const;
/**
 * `serve --workers N`: workers that exited unasked, counted by the primary (src/cli/commands/serve-cluster.ts,
 * added to the workers' sum). Only the primary's registry has it: `run` and `serve --workers 1` have no
 * workers, so their /metrics has no such counter (not one stuck at 0).
 */
export function workerFailureMetrics(registry: client.Registry) {
  const serveWorkerFailures = makers(registry).counter(
    'lionctr_serve_worker_failures_total',
    '`serve --workers N`: worker processes that exited unasked, by stage (start: before listening, e.g. the port ' +
      'in use; running: after); the primary restarts them with backoff, and exits after ' +
      'serve.workerStartFailures start failures in a row',
    ['stage'],
  );
  for (const stage of WORKER_FAILURE_STAGES) serveWorkerFailures.labels({ stage }).inc(0);
  return { serveWorkerFailures };
}

/** The metrics of a trainer process (`train`, or a test of the trainer): process, ingest, train. */
export function createTrainMetrics(registry = new client.Registry()) {
  processMetrics(registry);
  return { registry, ...ingestMetrics(registry), ...trainMetrics(registry) };
}

/** The metrics of a `serve` process: process and serving only (no train, ingest or Kafka ones). */
export function createServeMetrics(registry = new client.Registry()) {
  processMetrics(registry);
  return { registry, ...serveMetrics(registry) };
}

/** The metrics of `run` (trainer and prediction endpoint in one process): all of the catalogue. */
export function createMetrics(registry = new client.Registry()) {
  processMetrics(registry);
  const train = { ...ingestMetrics(registry), ...trainMetrics(registry), ...supervisorMetrics(registry) };
  return { registry, ...train, ...serveMetrics(registry) };
}

/** A trainer's metrics (what observeTrainer updates). */
export type TrainMetrics = ReturnType<typeof createTrainMetrics>;
/** Serving metrics (what the prediction endpoint and observeRegistry update). */
export type ServeMetrics = ReturnType<typeof createServeMetrics>;
/** The whole catalogue (`run`). */
export type Metrics = ReturnType<typeof createMetrics>;
