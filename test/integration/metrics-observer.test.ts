import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { TrainEmitter } from '../../src/events/train-events.ts';
import { createMetrics } from '../../src/metrics/catalogue.ts';
import { observeTrainer } from '../../src/metrics/train-observer.ts';

describe('trainer events -> metrics', () => {
  it(
    'counts bad messages by reason, backpressure pauses (cumulative in, deltas out), ' +
      'lag per held partition with its consumer group, checkpoints',
    async () => {
      const m = createMetrics();
      const ev: TrainEmitter = new EventEmitter();
      observeTrainer(ev, m);
      ev.emit('ingest', { ok: 10, bad: { bad_json: 2 } });
      ev.emit('backpressure', { pauses: 3 });
      ev.emit('backpressure', { pauses: 3 });
      ev.emit('backpressure', { pauses: 5 });
      ev.emit('lag', [{ group: 'g', topic: 't', partition: 1, lag: 42 }]);
      ev.emit('checkpoint', { step: 7, seconds: 0.2, bytes: 1234 });
      const text = await m.registry.metrics();
      expect(text).toMatch(/lionctr_ingest_bad_messages_total\{reason="bad_json"\} 2/);
      expect(text).toMatch(/lionctr_ingest_bad_messages_total\{reason="bad_timestamp"\} 0/);
      expect(text).toMatch(/lionctr_ingest_messages_total\{status="bad"\} 2/);
      expect(text).toMatch(/lionctr_kafka_backpressure_pauses_total 5/);
      expect(text).toMatch(/lionctr_kafka_consumer_lag\{group="g",topic="t",partition="1"\} 42/);
      expect(text).toMatch(/lionctr_checkpoint_bytes 1234/);
      expect(text).toMatch(/lionctr_checkpoint_seconds_count 1/);
      // partition 1 revoked, 2 gained: only the partitions held now have a series
      ev.emit('lag', [{ group: 'g', topic: 't', partition: 2, lag: 7 }]);
      const after = await m.registry.metrics();
      expect(after).toMatch(/lionctr_kafka_consumer_lag\{group="g",topic="t",partition="2"\} 7/);
      expect(after).not.toMatch(/lionctr_kafka_consumer_lag\{group="g",topic="t",partition="1"\}/);
    },
  );
});
