/**
 * Figures that are undefined are absent from /metrics, never 0 and never a stale value
 * (issue 11): gauges without a value yet, progressive figures of a window without clicks,
 * every figure over the NaN predictions of a diverged step; skipped steps are counted.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { QualityFigures, TrainEmitter } from '../../../src/events/train-events.ts';
import { createMetrics, createServeMetrics } from '../../../src/metrics/catalogue.ts';
import { observeTrainer } from '../../../src/metrics/train-observer.ts';

/** The sample lines of `name` (no HELP/TYPE), labelled or not. */
const samples = (text: string, name: string) =>
  text.split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));

/** Figures of one progressive scope (the lifetime's in these events). */
const lifetime: QualityFigures = {
  auc: 0.7,
  aucErrorBound: 0.001,
  logloss: 0.45,
  ne: 0.93,
  calibration: 1.01,
  ctr: 0.1,
  examples: 900,
  bayesLogloss: Number.NaN,
};

describe('undefined figures are absent, never 0 or stale', () => {
  it('a fresh registry has no sample for a gauge without a value', async () => {
    const text = await createMetrics().registry.metrics();
    for (const g of [
      'lionctr_progressive_auc',
      'lionctr_progressive_normalized_entropy',
      'lionctr_progressive_calibration',
      'lionctr_progressive_logloss',
      'lionctr_train_batch_logloss',
      'lionctr_checkpoint_last_timestamp_seconds',
      'lionctr_export_last_timestamp_seconds',
      'lionctr_serve_model_version',
      'lionctr_serve_model_age_seconds',
    ]) {
      expect(text, g).toContain(`# TYPE ${g} gauge`);
      expect(samples(text, g), g).toEqual([]);
    }
  });

  it('run and a single serve process have no worker-failure counter (the primary of --workers N has)', async () => {
    for (const r of [createMetrics().registry, createServeMetrics().registry])
      expect(await r.metrics()).not.toContain('lionctr_serve_worker_failures_total');
  });

  it('a window without clicks, then NaN predictions: the gauges go away; a defined figure comes back', async () => {
    const m = createMetrics();
    const ev: TrainEmitter = new EventEmitter();
    observeTrainer(ev, m);
    const progress = { step: 5, examples: 500, examplesPerSecond: 100, window: 500, ctr: 0.1, slices: [] };
    const defined = { auc: 0.71, logloss: 0.45, ne: 0.93, calibration: 1.02, aucErrorBound: 0.001 };
    ev.emit('progress', { ...progress, ...defined, lifetime });
    let text = await m.registry.metrics();
    expect(samples(text, 'lionctr_progressive_auc')).toEqual([
      'lionctr_progressive_auc{scope="window"} 0.71',
      'lionctr_progressive_auc{scope="lifetime"} 0.7',
    ]);
    // no clicks in the window: AUC, its bound, NE and calibration undefined; logloss defined
    const nan = Number.NaN;
    const noClicks = { auc: nan, logloss: 0.01, ne: nan, calibration: nan, aucErrorBound: nan };
    ev.emit('progress', { ...progress, ...noClicks, ctr: 0, lifetime });
    text = await m.registry.metrics();
    expect(samples(text, 'lionctr_progressive_auc')).toEqual(['lionctr_progressive_auc{scope="lifetime"} 0.7']);
    expect(samples(text, 'lionctr_progressive_auc_error_bound')).toEqual([
      'lionctr_progressive_auc_error_bound{scope="lifetime"} 0.001',
    ]);
    expect(samples(text, 'lionctr_progressive_normalized_entropy')).toEqual([
      'lionctr_progressive_normalized_entropy{scope="lifetime"} 0.93',
    ]);
    expect(samples(text, 'lionctr_progressive_calibration')).toEqual([
      'lionctr_progressive_calibration{scope="lifetime"} 1.01',
    ]);
    expect(samples(text, 'lionctr_progressive_logloss')).toEqual([
      'lionctr_progressive_logloss{scope="window"} 0.01',
      'lionctr_progressive_logloss{scope="lifetime"} 0.45',
    ]);
    // a diverged step: NaN loss, skipped update, every figure undefined (not the last logloss)
    ev.emit('step', { step: 6, examples: 100, seconds: 0.01, loss: Number.NaN, watermarkMs: null });
    ev.emit('nonfinite', { step: 6, examples: 100, what: 'loss NaN', inARow: 1 });
    const allNan = { auc: nan, logloss: nan, ne: nan, calibration: nan, aucErrorBound: nan };
    ev.emit('progress', { ...progress, ...allNan, lifetime: { ...lifetime, ...allNan } });
    text = await m.registry.metrics();
    expect(samples(text, 'lionctr_progressive_logloss')).toEqual([]);
    expect(samples(text, 'lionctr_progressive_ctr')).toEqual([
      'lionctr_progressive_ctr{scope="window"} 0.1',
      'lionctr_progressive_ctr{scope="lifetime"} 0.1',
    ]);
    expect(samples(text, 'lionctr_train_batch_logloss')).toEqual([]);
    expect(samples(text, 'lionctr_train_nonfinite_steps_total')).toEqual(['lionctr_train_nonfinite_steps_total 1']);
    ev.emit('progress', { ...progress, ...defined, calibration: 0.99, lifetime });
    text = await m.registry.metrics();
    expect(samples(text, 'lionctr_progressive_calibration')).toEqual([
      'lionctr_progressive_calibration{scope="window"} 0.99',
      'lionctr_progressive_calibration{scope="lifetime"} 1.01',
    ]);
  });
});
