/**
 * Freshness metrics (src/metrics/freshness-metrics.ts): event -> exported and trained -> exported
 * at each publish (the publish gate's decision when one was seen, else the export's write; deltas
 * at their write), event -> served at scrape time from the served version's watermark.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ServeEmitter } from '../../../src/events/serve-events.ts';
import type { GateEvent, TrainEmitter } from '../../../src/events/train-events.ts';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import { observeRegistry } from '../../../src/metrics/serve-observer.ts';
import { observeTrainer } from '../../../src/metrics/train-observer.ts';

/** The value of an unlabelled sample `name` in `text`, or undefined when absent. */
const sample = (text: string, name: string) => {
  const m = text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : undefined;
};
const step = { step: 1, examples: 8, seconds: 0.01, loss: 0.5, watermarkMs: null };
const gate = (version: string, decision: GateEvent['decision']): GateEvent => ({
  version,
  decision,
  reasons: decision === 'refused' ? ['auc_drop'] : [],
  examples: 0,
  clicks: 0,
  candidate: null,
  served: null,
  snapshotBytes: 0,
  seconds: 0,
});

describe('freshness metrics', () => {
  it('event -> served: now minus the served watermark at scrape time; absent without one', async () => {
    const m = createMetrics();
    const reg: ServeEmitter = new EventEmitter();
    observeRegistry(reg, m);
    expect(sample(await m.registry.metrics(), 'lionctr_serve_event_time_lag_seconds')).toBeUndefined();
    reg.emit('loaded', { version: '1', step: 1, previous: null, watermarkMs: Date.now() - 5000 });
    const lag = sample(await m.registry.metrics(), 'lionctr_serve_event_time_lag_seconds');
    expect(lag).toBeGreaterThanOrEqual(5);
    expect(lag).toBeLessThan(6);
    // computed at scrape time: it grows while the version stays
    await new Promise((r) => setTimeout(r, 120));
    expect(sample(await m.registry.metrics(), 'lionctr_serve_event_time_lag_seconds')).toBeGreaterThan(lag! + 0.1);
    reg.emit('loaded', { version: '2', step: 2, previous: '1', watermarkMs: null });
    expect(sample(await m.registry.metrics(), 'lionctr_serve_event_time_lag_seconds')).toBeUndefined();
  });

  it('event -> exported and trained -> exported at each publish; a refused export is not published', async () => {
    const m = createMetrics();
    const ev: TrainEmitter = new EventEmitter();
    observeTrainer(ev, m);
    const count = async () => sample(await m.registry.metrics(), 'lionctr_export_train_to_publish_seconds_count');
    const lag = async () => sample(await m.registry.metrics(), 'lionctr_export_event_time_lag_seconds');
    expect(await lag()).toBeUndefined();
    expect(await count()).toBe(0);
    // no gate seen: published when written
    ev.emit('step', step);
    await new Promise((r) => setTimeout(r, 50));
    ev.emit('export', { version: '10', seconds: 0.1, bytes: 1, watermarkMs: Date.now() - 3000 });
    expect(await lag()).toBeGreaterThanOrEqual(3);
    expect(await lag()).toBeLessThan(4);
    expect(await count()).toBe(1);
    const sum = sample(await m.registry.metrics(), 'lionctr_export_train_to_publish_seconds_sum')!;
    expect(sum).toBeGreaterThanOrEqual(0.045);
    expect(sum).toBeLessThan(1);
    // the gate's event about that first export (ungated) does not count it twice
    ev.emit('gate', gate('10', 'ungated'));
    expect(await count()).toBe(1);
    // with a gate: published at its decision; refused = not published
    ev.emit('step', step);
    ev.emit('export', { version: '11', seconds: 0.1, bytes: 1, watermarkMs: Date.now() - 60_000 });
    expect(await count()).toBe(1);
    ev.emit('gate', gate('11', 'refused'));
    expect(await count()).toBe(1);
    expect(await lag()).toBeLessThan(4);
    ev.emit('export', { version: '12', seconds: 0.1, bytes: 1, watermarkMs: Date.now() - 7000 });
    ev.emit('gate', gate('12', 'published'));
    expect(await count()).toBe(2);
    expect(await lag()).toBeGreaterThanOrEqual(7);
    // a delta is published when written
    ev.emit('delta', {
      version: '13',
      base: '12',
      seq: 1,
      rows: 1,
      tombstones: 0,
      seconds: 0.01,
      bytes: 1,
      watermarkMs: Date.now() - 1000,
    });
    expect(await count()).toBe(3);
    expect(await lag()).toBeLessThan(2);
  });
});
