/** Kafka offset-reset counters (lionctr_kafka_offset_resets_total, ..._skipped_messages_total) from events. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { TrainEmitter } from '../../../src/events/train-events.ts';
import { createTrainMetrics } from '../../../src/metrics/catalogue.ts';
import { observeTrainer } from '../../../src/metrics/train-observer.ts';

const line = (text: string, name: string) =>
  text.split('\n').find((l) => l.startsWith(`${name}{group="g",topic="clicks",partition="2"} `));

describe('Kafka offset-reset metrics', () => {
  it('grow by the cumulative figures of each offsetResets event, per group, topic and partition', async () => {
    const m = createTrainMetrics();
    const ev: TrainEmitter = new EventEmitter();
    observeTrainer(ev, m);
    const r = (resets: number, skipped: number) => [{ group: 'g', topic: 'clicks', partition: 2, resets, skipped }];
    ev.emit('offsetResets', r(1, 15));
    ev.emit('offsetResets', r(1, 15)); // the same figures again: nothing new
    ev.emit('offsetResets', r(2, 40));
    const text = await m.registry.metrics();
    expect(line(text, 'lionctr_kafka_offset_resets_total')).toBe(
      'lionctr_kafka_offset_resets_total{group="g",topic="clicks",partition="2"} 2',
    );
    expect(line(text, 'lionctr_kafka_skipped_messages_total')).toBe(
      'lionctr_kafka_skipped_messages_total{group="g",topic="clicks",partition="2"} 40',
    );
  });
});
