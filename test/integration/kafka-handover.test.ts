import pino from 'pino';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config/schema.ts';
import { createKafkaSource, type KafkaSource } from '../../src/ingest/kafka/source.ts';
import { positionKey } from '../../src/ingest/position-key.ts';
import { useFixture } from '../helpers/fixture.ts';
import {
  committedOffsets,
  createTopic,
  describeKafka,
  kafkaBrokers,
  testKafka,
  uniqueTopic,
} from '../helpers/kafka.ts';
import { syntheticCriteoLines } from '../helpers/kafka-data.ts';
import { kafkaTrainerSets } from '../helpers/kafka-process.ts';

const fx = useFixture();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Drives a Kafka source as the trainer does, without a model: every batch is "trained"
 * (its positions recorded) and checkpointed at once.
 */
function drive(src: KafkaSource, topic: string) {
  const ac = new AbortController();
  const next: Record<string, number> = {};
  const seen: [number, number][] = [];
  const done = (async () => {
    for await (const rb of src.batches({ batchSize: 64, signal: ac.signal })) {
      for (let r = 0; r < rb.numRows; r++) {
        const p = rb.getChild('source_partition')!.get(r) as number,
          o = rb.getChild('source_offset')!.get(r) as number;
        next[positionKey(`kafka:${topic}`, p)] = o + 1;
        seen.push([p, o]);
      }
      if (rb.numRows > 0 || src.checkpointWanted!()) await src.checkpointed!({ ...next });
    }
    await src.checkpointed!({ ...next });
    await src.close!();
  })();
  return {
    seen,
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}

describeKafka('partition hand-over', () => {
  it('a partition regained without new messages and lost again is not released at a stale offset', async () => {
    const brokers = kafkaBrokers()!;
    const dir = fx.tempDir('handover');
    const topic = uniqueTopic('handover');
    await createTopic(brokers, topic, 2);
    const base = loadConfig(
      [],
      kafkaTrainerSets(brokers, topic, dir, { 'kafka.deadLetterTopic': '', 'kafka.lingerMs': 20 }),
    ).kafka;
    // the assignor orders members by id, and a member id starts with the client id: B and C
    // (client ids b, c after A's a) land on the same side of A and get the same partition
    const source = (clientId: string) =>
      createKafkaSource({
        kafka: { ...base, clientId },
        schema: { numeric: [], categorical: ['C1'] },
        resume: null,
        logger: pino({ level: 'silent' }),
      });
    const producer = testKafka(brokers).producer();
    await producer.connect();
    const line = syntheticCriteoLines(1)[0];
    const send = (partition: number, n: number) =>
      producer.send({ topic, messages: Array.from({ length: n }, () => ({ partition, value: line })) });
    const until = async (what: string, ok: () => boolean) => {
      const t0 = Date.now();
      while (!ok()) {
        if (Date.now() - t0 > 60_000) throw new Error(`timed out waiting for ${what}`);
        await sleep(50);
      }
    };
    const on = (s: { seen: [number, number][] }, p: number) => s.seen.filter(([q]) => q === p).map(([, o]) => o);

    await send(0, 10);
    await send(1, 10);
    const a = drive(source('a'), topic);
    await until('A to train both partitions', () => on(a, 0).length === 10 && on(a, 1).length === 10);
    const b = drive(source('b'), topic); // the group splits: B gets one partition, X
    await sleep(3000);
    await send(0, 10);
    await send(1, 10);
    await until('A and B to train the new rows', () => b.seen.length === 10 && a.seen.length === 30);
    const x = b.seen[0][0];
    expect(on(b, x)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    await b.stop(); // B releases X at 20; A gets X back, with no new message on it
    await sleep(3000);
    const c = drive(source('c'), topic); // ordered like B: C gets X, which A loses without having started it
    await sleep(3000);
    // the group's position of X never goes back below what B trained and committed
    const committed = await committedOffsets(brokers, base.groupId, topic);
    const committedX = Number(committed.find((q) => q.partition === x)!.offset);
    expect(committedX).toBe(20); // A releasing X at its stale 10 would set it back
    await send(x, 5);
    await until('C to train X', () => on(c, x).length >= 5);
    await c.stop();
    await a.stop();
    await producer.disconnect();
    expect(on(c, x)).toEqual([20, 21, 22, 23, 24]); // A releasing X at its stale 10 would make C retrain 10..19
    expect(on(a, x)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  }, 120_000);
});
