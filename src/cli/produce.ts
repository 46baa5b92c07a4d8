/**
 * `lionctr produce`: replays a file into a Kafka topic, one message per non-empty line, the
 * value being exactly the line's bytes (without its "\n" or "\r\n"; lines are neither decoded
 * nor validated, so bad lines reach the topic and the trainer routes them to the dead-letter
 * topic). Lines go in file order; by default message i (0-based among the non-empty lines
 * after --skip) goes to partition i % partitions, so line i lands at offset floor(i / P) of
 * an empty topic with P partitions.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { createReadStream, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Partitioners, type Message } from 'kafkajs';
import type { Logger } from 'pino';
import { createKafka } from '../ingest/kafka/client.ts';
import type { KafkaSection } from '../ingest/kafka/config.ts';
import { createLogger } from '../log.ts';
import { LionctrError } from '../errors.ts';
import { configFrom, fatal, withConfigOptions } from './common.ts';

/** Options of produceFile. */
export interface ProduceOptions {
  /** Brokers, client id, TLS, SASL: the config's `kafka` section. */
  kafka: KafkaSection;
  topic: string;
  /** Path of the file to replay. */
  input: string;
  /** Format of the lines, sent as header `lionctr-format` (the trainer decodes by its kafka.format). */
  format: 'criteo' | 'jsonl';
  /** Messages per second, 0 = as fast as the broker takes them (default 0). */
  rate?: number;
  /** `round-robin`: message i to partition i % P, no key (default). `key`: key = i (decimal), partition by kafkajs' Java-compatible murmur2 partitioner. */
  partitionsBy?: 'round-robin' | 'key';
  /** Non-empty lines to skip first (default 0). */
  skip?: number;
  /** Max messages after skipping, 0 = all (default 0). */
  limit?: number;
  /** Messages per produce request, each awaited with acks=-1 (default 500). */
  batchSize?: number;
  /** Aborting stops after the batch in flight; the summary counts what was sent. */
  signal?: AbortSignal;
  /** kafkajs' own warnings and errors go here at level debug/trace only: at info they are retried transients ("coordinator is loading") or notes; what fails for good is thrown. */
  logger?: Logger;
  /** Called after each acknowledged batch with the messages sent so far and the seconds since the start. */
  onProgress?: (messages: number, seconds: number) => void;
}

/** What produceFile did (also the command's JSON line). */
export interface ProduceSummary {
  topic: string;
  messages: number;
  partitions: number;
  seconds: number;
  messages_per_second: number;
}

/**
 * The non-empty lines of a file as Buffers (bytes as they are, without "\n" or "\r\n"),
 * read in 1 MiB chunks.
 */
export async function* fileLines(path: string): AsyncGenerator<Buffer> {
  let rest = Buffer.alloc(0);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
      const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
      if (end > start) yield buf.subarray(start, end);
      start = nl + 1;
    }
    rest = Buffer.from(buf.subarray(start));
  }
  const end = rest.length && rest[rest.length - 1] === 13 ? rest.length - 1 : rest.length;
  if (end > 0) yield rest.subarray(0, end);
}

/** Messages produceFile would send for a file (non-empty lines after skip, up to limit). */
export async function countMessages(path: string, skip = 0, limit = 0): Promise<number> {
  let n = 0;
  for await (const _ of fileLines(path)) n++;
  n = Math.max(0, n - skip);
  return limit ? Math.min(n, limit) : n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Replays `opts.input` into `opts.topic` (see the module comment for the mapping), with an
 * idempotent producer (acks=-1, one request in flight, so retries neither duplicate nor
 * reorder messages).
 * @throws LionctrError LIONCTR_BAD_INPUT when the input is not a readable file;
 *   LIONCTR_BAD_CONFIG when the topic does not exist (topics are never auto-created);
 *   LIONCTR_UNAVAILABLE "cannot reach Kafka at <brokers>: ..." (after kafkajs' retries, about 45 s); other kafkajs
 *   errors (message too large...) as they come.
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
  const kafka = createKafka(opts.kafka, quiet);
  const admin = kafka.admin();
  let partitions: number;
  try {
    try {
      await admin.connect();
    } catch (e) {
      const brokers = opts.kafka.brokers.join(',');
      const msg = `cannot reach Kafka at ${brokers}: ${(e as Error).message}`;
      throw new LionctrError('LIONCTR_UNAVAILABLE', msg, { cause: e });
    }
    if (!(await admin.listTopics()).includes(topic)) {
      throw new LionctrError(
        'LIONCTR_BAD_CONFIG',
        `topic "${topic}" does not exist on ${opts.kafka.brokers.join(',')}; lionctr produce does not create topics (lionctr topics create)`,
        { where: '--topic' },
      );
    }
    partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.length;
  } finally {
    await admin.disconnect();
  }

  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
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
    try {
      await producer.send({ topic, messages: batch, acks: -1 });
    } catch (e) {
      // name the lines: Kafka's own message ("[10] The request included a message larger than...") does not
      const first = skip + sent + 1,
        last = first + batch.length - 1;
      const big = batch.map((m, j) => [first + j, (m.value as Buffer).length] as const).filter(([, n]) => n > 900_000);
      throw new LionctrError(
        'LIONCTR_BAD_INPUT',
        `sending lines ${first}-${last} (non-empty lines) failed: ${(e as Error).message}${big.length ? `; too large for the broker's message.max.bytes (1 MB by default): line ${big.map(([l, n]) => `${l} (${n} bytes)`).join(', ')}` : ''}; ${sent} messages were sent before`,
        { where: input, cause: e },
      );
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

const count = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer.`);
  return n;
};

/** Progress on stderr: a redrawn bar when stderr is a TTY (total counted first), else a log line every 2 s. */
function progressReporter(
  logger: Logger,
  total: number | undefined,
): { update: (n: number, s: number) => void; end: () => void } {
  let last = 0;
  if (total === undefined) {
    return {
      update: (n, s) => {
        if (s - last >= 2) {
          last = s;
          logger.info(
            { messages: n, messages_per_second: Math.round(n / s) },
            `produce: ${n} messages, ${Math.round(n / s)}/s`,
          );
        }
      },
      end: () => {},
    };
  }
  const draw = (n: number, s: number) => {
    const w = 30,
      f = total ? Math.round((w * n) / total) : w;
    process.stderr.write(
      `\r[${'#'.repeat(f)}${'-'.repeat(w - f)}] ${n}/${total} ${total ? Math.floor((100 * n) / total) : 100}%  ${Math.round(n / (s || 1e-9))} msg/s `,
    );
  };
  let shown: [number, number] = [0, 0];
  return {
    update: (n, s) => {
      shown = [n, s];
      if (s - last >= 0.1) {
        last = s;
        draw(n, s);
      }
    },
    end: () => {
      draw(...shown);
      process.stderr.write('\n');
    },
  };
}

/** The `produce` subcommand (added to the program in commands.ts). */
export function produceCommand(): Command {
  return withConfigOptions(
    new Command('produce')
      .description(
        'replay a file into a Kafka topic, one message per non-empty line (exact line bytes; line i to partition i % partitions); prints a JSON summary',
      )
      .requiredOption('--input <file>', 'file to replay')
      .addOption(
        new Option(
          '--format <format>',
          'format of the lines, sent as header lionctr-format (default: kafka.format)',
        ).choices(['criteo', 'jsonl']),
      )
      .option('--topic <topic>', 'existing topic to write to (default: kafka.topic)')
      .option('--brokers <host:port,...>', 'bootstrap brokers (kafka.brokers)')
      .option('--rate <n>', 'messages per second, 0 = as fast as possible', count('--rate'), 0)
      .addOption(
        new Option(
          '--partitions-by <how>',
          'round-robin: line i to partition i % partitions; key: key = line index, murmur2 partitioner',
        )
          .choices(['round-robin', 'key'])
          .default('round-robin'),
      )
      .option('--skip <n>', 'non-empty lines to skip first', count('--skip'), 0)
      .option('--limit <n>', 'max messages after skipping (0 = all)', count('--limit'), 0)
      .option('--batch-size <n>', 'messages per produce request (acks=-1, awaited)', count('--batch-size'), 500),
  )
    .showHelpAfterError()
    .action(async (o) => {
      try {
        const extra = o.brokers
          ? [
              `kafka.brokers=${JSON.stringify(
                String(o.brokers)
                  .split(',')
                  .map((s) => s.trim())
                  .filter(Boolean),
              )}`,
            ]
          : [];
        const cfg = configFrom(o, extra);
        const logger = createLogger(cfg.log.level);
        const input = resolve(o.input);
        const ac = new AbortController();
        const onSignal = (sig: string) => {
          if (ac.signal.aborted) process.exit(130);
          logger.info(`${sig}: stopping after the batch in flight`);
          ac.abort();
        };
        process.on('SIGTERM', () => onSignal('SIGTERM'));
        process.on('SIGINT', () => onSignal('SIGINT'));
        let total: number | undefined;
        if (process.stderr.isTTY) {
          try {
            total = await countMessages(input, o.skip, o.limit);
          } catch {
            /* produceFile reports it */
          }
        }
        const progress = progressReporter(logger, total);
        const summary = await produceFile({
          kafka: cfg.kafka,
          topic: o.topic ?? cfg.kafka.topic,
          input,
          format: o.format ?? cfg.kafka.format,
          rate: o.rate,
          partitionsBy: o.partitionsBy,
          skip: o.skip,
          limit: o.limit,
          batchSize: o.batchSize || 500,
          signal: ac.signal,
          logger,
          onProgress: progress.update,
        });
        progress.end();
        process.stdout.write(`${JSON.stringify(summary)}\n`);
      } catch (e) {
        fatal(e);
      }
    });
}
