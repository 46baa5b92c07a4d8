// kafka.offsetReset against a real broker: a group's committed offset below the log start
// (records deleted, as retention does: admin deleteRecords) continues at the start (earliest) or
// the end (latest) with the skipped messages counted, or stops the source (fail); a consumer
// that falls behind the log start while it runs is reset and counted the same way.
import pino from 'pino';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config/schema.ts';
import { LionctrError } from '../../src/errors.ts';
import { createKafkaSource, type KafkaSource } from '../../src/ingest/kafka/source.ts';
import { createTopic, describeKafka, kafkaBrokers, testKafka, uniqueTopic } from '../helpers/kafka.ts';
import { syntheticCriteoLines } from '../helpers/kafka-data.ts';

const sets = (topic: string, extra: Record<string, unknown>) =>
  Object.entries({
    'kafka.brokers': kafkaBrokers()!,
    'kafka.topic': topic,
    'kafka.groupId': `${topic}-g`,
    'kafka.format': 'criteo',
    'kafka.deadLetterTopic': '',
    'kafka.lingerMs': 50,
    'kafka.sessionTimeoutMs': 6000,
    'kafka.heartbeatIntervalMs': 500,
    ...extra,
  }).map(([k, v]) => `${k}=${JSON.stringify(v)}`);

function sourceOf(topic: string, extra: Record<string, unknown> = {}): KafkaSource {
  const cfg = loadConfig([], sets(topic, extra));
  const { numeric, categorical } = cfg.schema;
  return createKafkaSource({
    kafka: cfg.kafka,
    schema: { numeric, categorical },
    resume: null,
    logger: pino({ level: 'silent' }),
  });
}

/**
 * A 1-partition topic of `n` Criteo messages, its group `<topic>-g` committed at `committed`, and
 * its records below `low` deleted.
 */
async function expiredTopic(n: number, committed: number, low: number): Promise<string> {
  const brokers = kafkaBrokers()!;
  const topic = uniqueTopic('reset');
  await createTopic(brokers, topic, 1);
  await produce(topic, syntheticCriteoLines(n));
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    await admin.setOffsets({ groupId: `${topic}-g`, topic, partitions: [{ partition: 0, offset: String(committed) }] });
  } finally {
    await admin.disconnect();
  }
  await deleteBelow(topic, low);
  return topic;
}

/** Deletes the records of `topic`'s partition 0 below `offset`, as retention does. */
async function deleteBelow(topic: string, offset: number): Promise<void> {
  const admin = testKafka(kafkaBrokers()!).admin();
  await admin.connect();
  try {
    await admin.fetchTopicMetadata({ topics: [topic] }); // deleteTopicRecords needs it loaded
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: String(offset) }] });
  } finally {
    await admin.disconnect();
  }
}

async function produce(topic: string, lines: string[]): Promise<void> {
  const producer = testKafka(kafkaBrokers()!).producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: lines.map((value) => ({ value })) });
  await producer.disconnect();
}

/** Offsets of the rows `src` yields until `done` holds (or 30 s pass; then fails). */
async function offsetsUntil(src: KafkaSource, done: (offsets: number[]) => boolean, between?: () => Promise<void>) {
  const offsets: number[] = [];
  const deadline = Date.now() + 30_000;
  for await (const rb of src.batches({ batchSize: 1000 })) {
    const col = rb.getChild('source_offset')!;
    for (let r = 0; r < rb.numRows; r++) offsets.push(Number(col.get(r)));
    if (between) await between();
    if (done(offsets) || Date.now() > deadline) break;
  }
  await src.close?.();
  return offsets;
}

describeKafka('kafka.offsetReset', () => {
  it('earliest: a committed offset below the log start continues at the start, the expired ones counted', async () => {
    const topic = await expiredTopic(30, 5, 20);
    const src = sourceOf(topic);
    const offsets = await offsetsUntil(src, (o) => o.length >= 10);
    expect(offsets).toEqual(Array.from({ length: 10 }, (_, i) => 20 + i));
    expect(src.offsetResets!()).toEqual([{ group: `${topic}-g`, topic, partition: 0, resets: 1, skipped: 15 }]);
  }, 60_000);

  it('latest: continues at the end, the retained ones counted as skipped too', async () => {
    const topic = await expiredTopic(30, 5, 20);
    const src = sourceOf(topic, { 'kafka.offsetReset': 'latest' });
    let produced = false;
    const offsets = await offsetsUntil(
      src,
      (o) => o.length >= 2,
      async () => {
        if (produced || !src.offsetResets!().length) return;
        produced = true;
        await produce(topic, syntheticCriteoLines(2, 9)); // offsets 30, 31: read
      },
    );
    expect(offsets).toEqual([30, 31]);
    expect(src.offsetResets!()).toEqual([{ group: `${topic}-g`, topic, partition: 0, resets: 1, skipped: 25 }]);
  }, 60_000);

  it('fail: the source stops with an error naming the partition, its position and the range', async () => {
    const topic = await expiredTopic(30, 5, 20);
    const src = sourceOf(topic, { 'kafka.offsetReset': 'fail' });
    const err = await offsetsUntil(src, () => false).catch((e: unknown) => e);
    await src.close?.();
    expect(err).toBeInstanceOf(LionctrError);
    expect((err as LionctrError).code).toBe('LIONCTR_BAD_INPUT');
    expect((err as Error).message).toContain(`${topic}/0: position 5 is outside the partition's offsets [20, 30]`);
    expect(src.offsetResets!()).toEqual([]);
  }, 60_000);

  it('a consumer that falls behind the log start while running is reset and counted', async () => {
    const topic = uniqueTopic('reset-run');
    await createTopic(kafkaBrokers()!, topic, 1);
    await produce(topic, syntheticCriteoLines(10));
    // 10 rows held (linger) over queueMaxRows=5: fetching pauses at offset 10; while they are
    // held (before they are yielded, which would resume fetching), 20 more are written and those
    // below 25 deleted; when the rows are taken, fetching resumes out of range
    const src = sourceOf(topic, { 'kafka.queueMaxRows': 5, 'kafka.lingerMs': 4000 });
    const expire = (async () => {
      const deadline = Date.now() + 30_000;
      while (src.stats().rows < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await produce(topic, syntheticCriteoLines(20, 3));
      await deleteBelow(topic, 25);
    })();
    const offsets = await offsetsUntil(src, (o) => o.length >= 15);
    await expire;
    expect(offsets).toEqual([...Array.from({ length: 10 }, (_, i) => i), 25, 26, 27, 28, 29]);
    expect(src.offsetResets!()).toEqual([{ group: `${topic}-g`, topic, partition: 0, resets: 1, skipped: 15 }]);
  }, 60_000);
});
