/**
 * The broker of the Kafka tests and its topics: availability (describeKafka), a quiet
 * client, creating topics, reading a topic back and a group's committed offsets. The broker
 * comes from the vitest globalSetup (kafka-global-setup.ts): a running one, or
 * ops/kafka/start.sh's, or none (tests skipped locally; under CI=true the run fails instead).
 * Test data is in kafka-data.ts, audit logs in kafka-audit.ts, trainer processes in kafka-process.ts.
 *
 *   describeKafka('produce', () => { it(..., async () => {
 *     const brokers = kafkaBrokers()!; const topic = uniqueTopic('produce');
 *     await createTopic(brokers, topic, 3); ...; const msgs = await readAll(brokers, topic); }) });
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Admin, type IHeaders } from 'kafkajs';
import { describe, inject } from 'vitest';
import type {} from './kafka-global-setup.ts';

/** The test broker's bootstrap list, or null when Kafka is unavailable (see kafkaSkipReason()). */
export function kafkaBrokers(): string[] | null {
  const b = inject('kafkaBrokers');
  return b ? b.split(',') : null;
}

/** Why broker tests are skipped ('' when they run). */
export const kafkaSkipReason = (): string => inject('kafkaSkipReason') ?? 'the Kafka globalSetup did not run';

let warned = false;
/**
 * `describe` when a broker is available, else `describe.skip` with the reason in the suite
 * name and one console.warn per test file.
 */
export function describeKafka(name: string, fn: () => void): void {
  if (kafkaBrokers()) {
    describe(name, fn);
    return;
  }
  const reason = kafkaSkipReason();
  if (!warned) {
    warned = true;
    console.warn(`Kafka broker tests skipped: ${reason}`);
  }
  describe.skip(`${name} [skipped: ${reason}]`, fn);
}

/** A topic name not used before: `<prefix>-<base36 ms>-<hex>` (legal Kafka topic characters). */
export const uniqueTopic = (prefix: string): string =>
  `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A quiet kafkajs client for tests (its logs off; errors still throw). */
export const testKafka = (brokers: string[]): Kafka =>
  new Kafka({
    brokers,
    clientId: 'lionctr-test',
    connectionTimeout: 3000,
    retry: { retries: 5, initialRetryTime: 100 },
    logLevel: logLevel.NOTHING,
  });

async function withAdmin<T>(brokers: string[], fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Creates `topic` with `partitions` partitions (replication 1) and waits until it is usable:
 * every partition has a leader and ListOffsets answers for all of them. A fresh topic can
 * briefly answer "This server does not host this topic-partition" (kafkajs #1563, #815), so
 * this retries with backoff (100 ms doubling to 1 s) for up to `timeoutMs` (default 15 s).
 * An existing topic is accepted as it is.
 * @throws Error naming the topic and the last failure when it is not usable in time.
 */
export async function createTopic(
  brokers: string[],
  topic: string,
  partitions: number,
  timeoutMs = 15_000,
): Promise<void> {
  await withAdmin(brokers, async (admin) => {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    const deadline = Date.now() + timeoutMs;
    let wait = 100,
      last = '';
    for (;;) {
      try {
        const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
        const led = meta.partitions.filter((p) => p.leader >= 0).length;
        const offsets = led === partitions ? await admin.fetchTopicOffsets(topic) : [];
        if (offsets.length === partitions) return;
        last = `${led}/${partitions} partitions with a leader, offsets of ${offsets.length}`;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() + wait > deadline) throw new Error(`topic ${topic} not usable within ${timeoutMs} ms: ${last}`);
      await sleep(wait);
      wait = Math.min(wait * 2, 1000);
    }
  });
}

/** One message as read back by readAll. */
export interface ReadMessage {
  partition: number;
  offset: number;
  key: Buffer | null;
  /** The value bytes (an empty Buffer for a null value). */
  value: Buffer;
  headers: IHeaders;
}

/**
 * Every message of `topic` from the beginning, sorted by (partition, offset): a throwaway
 * consumer group reads until each partition reached the high watermark that
 * fetchTopicOffsets gave at the start (messages produced later may be missing), then the
 * group is deleted.
 * @param opts.timeoutMs give up after this long (default 30 s)
 * @throws Error with the partitions still short when the timeout passes.
 */
export async function readAll(
  brokers: string[],
  topic: string,
  opts: { timeoutMs?: number } = {},
): Promise<ReadMessage[]> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const kafka = testKafka(brokers);
  const high = new Map(
    (await withAdmin(brokers, (a) => a.fetchTopicOffsets(topic))).map((o) => [o.partition, Number(o.high)]),
  );
  const next = new Map([...high.keys()].map((p) => [p, 0]));
  const short = () => [...high].filter(([p, h]) => next.get(p)! < h);
  const out: ReadMessage[] = [];
  if (short().length === 0) return out;

  const groupId = uniqueTopic('lionctr-test-readall');
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000, retry: { retries: 3 } });
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          out.push({
            partition: batch.partition,
            offset: Number(m.offset),
            key: m.key,
            value: m.value ?? Buffer.alloc(0),
            headers: m.headers ?? {},
          });
        }
        if (!batch.isEmpty()) next.set(batch.partition, Number(batch.lastOffset()) + 1);
        if (short().length === 0) done();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `readAll ${topic}: after ${timeoutMs} ms still short of the high watermark on ${short()
                .map(([p, h]) => `partition ${p} (${next.get(p)}/${h})`)
                .join(', ')}`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([finished, timeout]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.disconnect();
    await withAdmin(brokers, (a) => a.deleteGroups([groupId])).catch(() => {});
  }
  return out
    .filter((m) => m.offset < high.get(m.partition)!)
    .sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/**
 * The committed offsets of group `groupId` on `topic`, per partition as kafkajs' admin
 * gives them (`offset` a string, '-1' when none; `metadata` the commit's metadata).
 */
export async function committedOffsets(brokers: string[], groupId: string, topic: string) {
  return withAdmin(brokers, async (a) => (await a.fetchOffsets({ groupId, topics: [topic] }))[0].partitions);
}
