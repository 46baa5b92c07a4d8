/** Per-slot admission and eviction counters (lionctr_embedding_*_total) from `tables` events. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { TrainEmitter } from '../../../src/events/train-events.ts';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import { observeTrainer } from '../../../src/metrics/train-observer.ts';

const sample = (text: string, name: string, slot: string) =>
  text.split('\n').find((l) => l.startsWith(`${name}{slot="${slot}"} `));

describe('embedding admission metrics', () => {
  it('counters grow by the totals of each tables event; rows and bytes are gauges', async () => {
    const m = createMetrics();
    const ev: TrainEmitter = new EventEmitter();
    observeTrainer(ev, m);
    const t = (admitted: number, rejected: number) => ({
      slots: [
        { slot: 'C1', rows: admitted, bytes: 1000, admitted, rejected, evicted: rejected - 1 },
        { slot: 'C2', rows: 3, bytes: 64, admitted: 3, rejected: 0 },
      ],
      watermarkMs: null,
    });
    ev.emit('tables', t(10, 4));
    ev.emit('tables', t(25, 9));
    let text = await m.registry.metrics();
    expect(sample(text, 'lionctr_embedding_admitted_total', 'C1')).toBe(
      'lionctr_embedding_admitted_total{slot="C1"} 25',
    );
    expect(sample(text, 'lionctr_embedding_rejected_total', 'C1')).toBe(
      'lionctr_embedding_rejected_total{slot="C1"} 9',
    );
    expect(sample(text, 'lionctr_embedding_admitted_total', 'C2')).toBe(
      'lionctr_embedding_admitted_total{slot="C2"} 3',
    );
    expect(sample(text, 'lionctr_embedding_rows', 'C1')).toBe('lionctr_embedding_rows{slot="C1"} 25');
    expect(sample(text, 'lionctr_embedding_evicted_total', 'C1')).toBe('lionctr_embedding_evicted_total{slot="C1"} 8');
    // a restarted trainer (worker) starts its totals from 0: what it reports is all new
    ev.emit('tables', t(2, 1));
    text = await m.registry.metrics();
    expect(sample(text, 'lionctr_embedding_admitted_total', 'C1')).toBe(
      'lionctr_embedding_admitted_total{slot="C1"} 27',
    );
    expect(sample(text, 'lionctr_embedding_rejected_total', 'C1')).toBe(
      'lionctr_embedding_rejected_total{slot="C1"} 10',
    );
  });
});
