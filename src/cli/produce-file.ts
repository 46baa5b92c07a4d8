/**
 * The replay loop of `lionctr produce`: a file into a Kafka topic, one message per non-empty
 * line, the value being exactly the line's bytes (without its "\n" or "\r\n"; lines are
 * neither decoded nor validated, so bad lines reach the topic and the trainer routes them to
 * the dead-letter topic). Lines go in file order; by default message i (0-based among the
 * non-empty lines after --skip) goes to partition i % partitions, so line i lands at offset
 * floor(i / P) of an empty topic with P partitions.
 */
import { statSync } from 'node:fs';
import { Partitioners, type Kafka, type Message } from 'kafkajs';
import type { Logger } from 'pino';
import { createKafka } from '../ingest/kafka/client.ts';
import type { KafkaSection } from '../ingest/kafka/config.ts';
import type { MessageFormat } from '../ingest/kafka/message-decoder.ts';
import { LionctrError } from '../errors.ts';
import { type BrokerWait, untilBrokerBack } from './broker-retry.ts';
import { fileLines } from './file-lines.ts';

/**
 * The partition count of `topic`. @throws LionctrError LIONCTR_BAD_CONFIG when it does not exist;
 * kafkajs' errors when the broker cannot be reached (untilBrokerBack retries those).
 */
async function partitionsOf(kafka: Kafka, topic: string, opts: ProduceOptions): Promise<number> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    if (!(await admin.listTopics()).includes(topic)) {
      const hint = 'lionctr produce does not create topics (lionctr topics create)';
      throw new LionctrError(
        'LIONCTR_BAD_CONFIG',
        `topic "${topic}" does not exist on ${opts.kafka.brokers.join(',')}; ${hint}`,
        { where: '--topic' },
      );
    }
    return (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.length;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Options of produceFile. */
export interface ProduceOptions {
  /** Brokers, client id, TLS, SASL: the config's `kafka` section. */
  kafka: KafkaSection;
  topic: string;
  /** Path of the file to replay. */
  input: string;
  /** Format of the lines, sent as header `lionctr-format` (the trainer decodes by its kafka.format). */
  format: MessageFormat;
  /** Messages per second, 0 = as fast as the broker takes them (default 0). */
  rate?: number;
  /**
   * `round-robin`: message i to partition i % P, no key (default). `key`: key = i (decimal),
   * partition by kafkajs' Java-compatible murmur2 partitioner.
   */
  partitionsBy?: 'round-robin' | 'key';
  /** Non-empty lines to skip first (default 0). */
  skip?: number;
  /** Max messages after skipping, 0 = all (default 0). */
  limit?: number;
  /** Messages per produce request, each awaited with acks=-1 (default 500). */
  batchSize?: number;
  /** Aborting stops after the batch in flight; the summary counts what was sent. */
  signal?: AbortSignal;
  /**
   * kafkajs' own warnings and errors go here at level debug/trace only: at info they are
   * retried transients ("coordinator is loading") or notes; what fails for good is thrown.
   */
  logger?: Logger;
  /** Called after each acknowledged batch with the messages sent so far and the seconds since the start. */
  onProgress?: (messages: number, seconds: number) => void;
  /**
   * Seconds to keep retrying while no broker can be reached (at the start, or a batch in an
   * outage), then LIONCTR_BROKER_UNAVAILABLE (default 60; broker-retry.ts).
   */
  brokerWaitSeconds?: number;
}

/** What produceFile did (also the command's JSON line). */
export interface ProduceSummary {
  topic: string;
  messages: number;
  partitions: number;
  seconds: number;
  messages_per_second: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Replays `opts.input` into `opts.topic` (see the module comment for the mapping), with an
 * idempotent producer (acks=-1, one request in flight, so retries neither duplicate nor
 * reorder messages).
 * @throws LionctrError LIONCTR_BAD_INPUT when the input is not a readable file;
 *   LIONCTR_BAD_CONFIG when the topic does not exist (topics are never auto-created);
 *   LIONCTR_BROKER_UNAVAILABLE (exit 3) when no broker can be reached for `brokerWaitSeconds`, at the
 *   start or sending a batch (retried with backoff until then); LIONCTR_BAD_INPUT naming the lines
 *   of a batch the broker refuses (a message too large...).
 */
export async function produceFile(opts: ProduceOptions): Promise<ProduceSummary> {
  const { topic, input, rate = 0, partitionsBy = 'round-robin', skip = 0, limit = 0, signal } = opts;
  let isFile = false;
  try {
    isFile = statSync(input).isFile();
  } catch {
    /* reported below */
  }
  if (!isFile) throw new LionctrError('LIONCTR_BAD_INPUT', 'input file not found', { where: input });

  const quiet = opts.logger && opts.logger.levelVal > 20 ? opts.logger.child({}, { level: 'silent' }) : opts.logger;
  // kafkajs retries a little (~1 s); longer outages are retried here, up to the deadline
  const kafka = createKafka(opts.kafka, quiet, { retries: 2, initialRetryTime: 200 });
  const wait: BrokerWait = {
    deadlineSeconds: opts.brokerWaitSeconds ?? 60,
    brokers: opts.kafka.brokers,
    logger: opts.logger,
    signal,
  };
  const partitions = await untilBrokerBack(`looking up topic "${topic}"`, () => partitionsOf(kafka, topic, opts), wait);
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await untilBrokerBack('connecting the producer', () => producer.connect(), wait);
  const batchSize = Math.max(
    1,
    rate > 0 ? Math.min(opts.batchSize ?? 500, Math.ceil(rate / 10)) : (opts.batchSize ?? 500),
  );
  const headers = { 'lionctr-format': opts.format };
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  let sent = 0,
    index = 0;
  let batch: Message[] = [];
  const flush = async () => {
    if (rate > 0) await sleep(t0 + (sent / rate) * 1000 - performance.now());
    const first = skip + sent + 1,
      last = first + batch.length - 1;
    try {
      // the idempotent producer resends a batch without duplicates while its producer id holds
      const send = () => producer.send({ topic, messages: batch, acks: -1 });
      await untilBrokerBack(`sending lines ${first}-${last} (${sent} messages sent before)`, send, wait);
    } catch (e) {
      if ((e as { code?: string }).code === 'LIONCTR_BROKER_UNAVAILABLE') throw e;
      // name the lines: Kafka's own message ("[10] The request included a message larger than...") does not
      const big = batch.map((m, j) => [first + j, (m.value as Buffer).length] as const).filter(([, n]) => n > 900_000);
      const sizes = big.map(([l, n]) => `${l} (${n} bytes)`).join(', ');
      const limitNote = "; too large for the broker's message.max.bytes (1 MB by default): line ";
      const tooBig = big.length ? `${limitNote}${sizes}` : '';
      const why = `${(e as Error).message}${tooBig}; ${sent} messages were sent before`;
      throw new LionctrError('LIONCTR_BAD_INPUT', `sending lines ${first}-${last} (non-empty lines) failed: ${why}`, {
        where: input,
        cause: e,
      });
    }
    sent += batch.length;
    batch = [];
    opts.onProgress?.(sent, seconds());
  };
  try {
    for await (const line of fileLines(input)) {
      if (index++ < skip) continue;
      const i = index - 1 - skip;
      if ((limit && i >= limit) || signal?.aborted) break;
      batch.push(
        partitionsBy === 'key'
          ? { key: String(i), value: line, headers }
          : { partition: i % partitions, value: line, headers },
      );
      if (batch.length >= batchSize) await flush();
    }
    if (batch.length && !signal?.aborted) await flush();
  } finally {
    await producer.disconnect();
  }
  const s = seconds();
  return { topic, messages: sent, partitions, seconds: s, messages_per_second: s > 0 ? sent / s : 0 };
}
