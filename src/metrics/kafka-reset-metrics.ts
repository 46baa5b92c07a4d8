/**
 * @module Kafka offset-reset metrics, part of the catalogue (src/metrics/catalogue.ts), and what
 * updates them: out-of-range positions the Kafka source reset by `kafka.offsetReset`
 * (src/ingest/kafka/offset-reset.ts) and the messages those resets skipped unread, per
 * consumer group, topic and partition.
 */
import type client from 'prom-client';
import type { TrainEmitter } from '../events/train-events.ts';
import { makers } from './makers.ts';

/** The offset-reset counters. */
export function kafkaResetMetrics(registry: client.Registry) {
  const { counter } = makers(registry);
  const labels = ['group', 'topic', 'partition'] as const;
  return {
    kafkaOffsetResets: counter(
      'lionctr_kafka_offset_resets_total',
      "Positions outside their partition's offsets (records expired or deleted, topic recreated or truncated) " +
        'moved by kafka.offsetReset, by consumer group',
      labels,
    ),
    kafkaSkipped: counter(
      'lionctr_kafka_skipped_messages_total',
      'Messages those offset resets passed over unread (expired ones, and the retained ones under latest), ' +
        'by consumer group',
      labels,
    ),
  };
}

/** The metrics observeKafkaResets updates. */
export type KafkaResetMetrics = ReturnType<typeof kafkaResetMetrics>;

/**
 * Counts the trainer's `offsetResets` events (cumulative per partition) into the counters: each
 * grows by the difference to the last figure seen (all of it when lower: a new source).
 */
export function observeKafkaResets(events: TrainEmitter, m: KafkaResetMetrics): void {
  const seen = new Map<string, { resets: number; skipped: number }>();
  events.on('offsetResets', (all) => {
    for (const r of all) {
      const l = { group: r.group, topic: r.topic, partition: String(r.partition) };
      const key = `${r.group}\0${r.topic}\0${r.partition}`;
      const last = seen.get(key) ?? { resets: 0, skipped: 0 };
      const grew = (a: number, b: number) => (a >= b ? a - b : a);
      m.kafkaOffsetResets.inc(l, grew(r.resets, last.resets));
      m.kafkaSkipped.inc(l, grew(r.skipped, last.skipped));
      seen.set(key, { resets: r.resets, skipped: r.skipped });
    }
  });
}
