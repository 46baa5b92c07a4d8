import { setQuality } from './quality-metrics.ts';
import type { TrainEmitter } from '../events/train-events.ts';
import type client from 'prom-client';
import { setOrAbsent, type TrainMetrics } from './catalogue.ts';
import { observeTrainFreshness } from './freshness-metrics.ts';
import { observeKafkaResets } from './kafka-reset-metrics.ts';

/**
 * Subscribes the metric catalogue to a trainer's events (src/events/train-events.ts): a
 * Trainer itself, or an emitter that re-emits the events a trainer worker posts (see
 * src/cli/train-worker.ts). A figure that is undefined (NaN: AUC of a window without clicks,
 * any figure over the NaN predictions of a diverged step) removes its gauge's sample: absent
 * from /metrics, never a stale or made-up value.
 */
export function observeTrainer(events: TrainEmitter, m: TrainMetrics): void {
  observeTrainFreshness(events, m);
  observeKafkaResets(events, m);
  events.on('ingest', (e) => {
    m.ingestMessages.inc({ status: 'ok' }, e.ok);
    for (const [reason, n] of Object.entries(e.bad)) {
      m.ingestMessages.inc({ status: 'bad' }, n);
      m.ingestBad.inc({ reason }, n);
    }
  });
  events.on('step', (e) => {
    m.trainExamples.inc(e.examples);
    if (e.watermarkMs !== null && e.watermarkMs !== undefined) m.freshness.set((Date.now() - e.watermarkMs) / 1000);
    m.trainSteps.inc();
    m.stepSeconds.observe(e.seconds);
    setOrAbsent(m.batchLoss, e.loss);
  });
  events.on('nonfinite', () => m.trainNonfinite.inc());
  events.on('progress', (p) => {
    setQuality(m.quality, p);
    setOrAbsent(m.throughput, p.examplesPerSecond);
  });
  // the admitted/rejected totals last seen per slot: the counters grow by the difference
  const seen = new Map<string, { admitted: number; rejected: number; evicted: number }>();
  events.on('tables', (e) => {
    for (const t of e.slots) {
      m.embeddingRows.set({ slot: t.slot }, t.rows);
      m.embeddingBytes.set({ slot: t.slot }, t.bytes);
      const last = seen.get(t.slot) ?? { admitted: 0, rejected: 0, evicted: 0 };
      const now = {
        admitted: t.admitted ?? last.admitted,
        rejected: t.rejected ?? last.rejected,
        evicted: t.evicted ?? last.evicted,
      };
      // a total below the last one is a new trainer's (a restarted worker): all of it is new
      const grew = (a: number, b: number) => (a >= b ? a - b : a);
      m.embeddingAdmitted.inc({ slot: t.slot }, grew(now.admitted, last.admitted));
      m.embeddingRejected.inc({ slot: t.slot }, grew(now.rejected, last.rejected));
      m.embeddingEvicted.inc({ slot: t.slot }, grew(now.evicted, last.evicted));
      seen.set(t.slot, now);
    }
    if (e.watermarkMs !== null) m.freshness.set((Date.now() - e.watermarkMs) / 1000);
  });
  events.on('checkpoint', (e) => {
    m.checkpointSeconds.observe(e.seconds);
    m.checkpointBytes.set(e.bytes);
    m.checkpointTimestamp.set(Date.now() / 1000);
  });
  events.on('writeFailure', (e) => m.trainWriteFailures.inc({ kind: e.kind }));
  let pausesSeen = 0;
  events.on('backpressure', (e) => {
    if (e.pauses > pausesSeen) {
      m.kafkaPauses.inc(e.pauses - pausesSeen);
      pausesSeen = e.pauses;
    }
  });
  events.on('lag', (lags) => {
    // the partitions held now: a revoked one's series goes (another trainer reports it)
    m.kafkaLag.reset();
    for (const l of lags) m.kafkaLag.set({ group: l.group, topic: l.topic, partition: String(l.partition) }, l.lag);
  });
  events.on('export', (e) => {
    m.exportSeconds.observe(e.seconds);
    m.exportTimestamp.set(Date.now() / 1000);
  });
  events.on('gate', (e) => {
    m.gateDecisions.inc({ decision: e.decision });
    for (const reason of e.reasons) m.gateRefusals.inc({ reason });
    if (e.decision === 'ungated') return;
    m.gateExamples.set(e.examples);
    m.gateSnapshotBytes.set(e.snapshotBytes);
    // an unjudged decision's figures (too few clicks) are not the gate's: the last judged ones stay
    if (e.decision === 'unjudged' || e.reasons.includes('unjudged_after_refusal')) return;
    for (const [model, f] of [
      ['candidate', e.candidate],
      ['served', e.served],
    ] as const) {
      setLabelledOrAbsent(m.gateAuc, model, f?.auc);
      setLabelledOrAbsent(m.gateCalibration, model, f?.calibration);
    }
  });
  events.on('published', () => m.publishedTimestamp.set(Date.now() / 1000));
  events.on('delta', (e) => {
    m.deltaSeconds.observe(e.seconds);
    m.deltaRows.set(e.rows);
  });
}

/** Sets `g{model}` to `v`, or removes that sample when `v` is undefined (NaN, infinite, absent). */
function setLabelledOrAbsent(g: client.Gauge<'model'>, model: string, v: number | undefined): void {
  if (typeof v === 'number' && Number.isFinite(v)) g.set({ model }, v);
  else g.remove({ model });
}
