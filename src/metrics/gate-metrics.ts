/**
 * @module The publish gate's metrics (src/train/publish-gate.ts), part of the catalogue
 * (src/metrics/catalogue.ts): decisions, refusal reasons, the held-out figures of the last
 * judged decision.
 */
import type client from 'prom-client';
import { makers } from './makers.ts';

/** Publish-gate label values: its decisions and the reasons of a refusal (src/train/publish-gate.ts). */
export const GATE_DECISIONS = ['published', 'refused', 'unjudged', 'ungated'] as const;
export const GATE_REASONS = ['auc_drop', 'calibration', 'unjudged_after_refusal'] as const;

/** Publish-gate metrics (training side); the counters start at 0 for every decision and reason. */
export function gateMetrics(registry: client.Registry) {
  const { counter, gauge } = makers(registry);
  const m = {
    gateDecisions: counter(
      'lionctr_export_gate_decisions_total',
      'Publish-gate decisions about full exports (published, refused, unjudged: too few held-out clicks, ' +
        'ungated: nothing served yet)',
      ['decision'],
    ),
    gateRefusals: counter(
      'lionctr_export_gate_refusals_total',
      'Exports the publish gate refused, by reason (auc_drop, calibration: a refusal for both counts under each; ' +
        'unjudged_after_refusal: too few held-out clicks to judge, and the previous candidate was refused)',
      ['reason'],
    ),
    gateAuc: gauge('lionctr_export_gate_auc', 'Held-out AUC at the last judged gate decision', ['model']),
    gateCalibration: gauge(
      'lionctr_export_gate_calibration',
      'Held-out calibration (sum p / sum y) at the last judged gate decision',
      ['model'],
    ),
    gateExamples: gauge('lionctr_export_gate_examples', 'Held-out examples scored at the last gate decision'),
    gateSnapshotBytes: gauge(
      'lionctr_export_gate_snapshot_bytes',
      "Bytes the served version's copy-on-write snapshot held at the last gate decision",
    ),
    publishedTimestamp: gauge(
      'lionctr_export_published_timestamp_seconds',
      'Unix time LATEST last moved to a new export',
    ),
  };
  for (const decision of GATE_DECISIONS) m.gateDecisions.labels({ decision }).inc(0);
  for (const reason of GATE_REASONS) m.gateRefusals.labels({ reason }).inc(0);
  return m;
}
