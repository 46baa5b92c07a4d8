/**
 * Kafka ingest throughput, in one run against a real broker (ops/kafka/start.sh):
 *   1. read-only: a kafkajs consumer that only counts the messages of the topic (the peer);
 *   2. ingest: the lionctr Kafka source (decode + dead-letter check + Arrow record batches);
 *   3. train: featurize + train step of the default model (criteo slots, dim 16, MLP
 *      256-128) on the first batches the source yielded.
 * Each read starts a fresh consumer group at the beginning of a topic filled with the
 * Criteo sample repeated; rates are timed from the first message to the last. Goal (issue 4):
 * ingest at least 3x the training rate, so ingest is never the bottleneck.
 *
 *   npx tsx bench/kafka-ingest.ts [--brokers 127.0.0.1:19092] [--messages 200000] [--partitions 4]
 *     [--batch 4096] [--train-steps 8]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { produceFile } from '../src/cli/produce-file.ts';
import { loadConfig } from '../src/config/schema.ts';
import { Featurizer } from '../src/features/featurizer.ts';
import { criteoSlots } from '../src/features/schema.ts';
import { createKafkaSource } from '../src/ingest/kafka/source.ts';
import { selectBackend } from '../src/model/backend.ts';
import { CtrModel } from '../src/model/ctr-model.ts';
import { TrainStep } from '../src/train/train-step.ts';
import type { RecordBatch } from 'apache-arrow';

const { values: v } = parseArgs({
  options: {
    brokers: { type: 'string', default: '127.0.0.1:19092' },
    messages: { type: 'string', default: '200000' },
    partitions: { type: 'string', default: '4' },
    batch: { type: 'string', default: '4096' },
    'train-steps': { type: 'string', default: '8' },
    input: { type: 'string', default: '../shared/data/criteo-10k/criteo_10k.tsv' },
    help: { type: 'boolean' },
  },
});
if (v.help) {
  console.log(
    'usage: npx tsx bench/kafka-ingest.ts [--brokers H:P] [--messages N] [--partitions P] [--batch B] ' +
      '[--train-steps S] [--input criteo.tsv]',
  );
  process.exit(0);
}
const brokers = v.brokers!.split(','),
  N = Number(v.messages),
  P = Number(v.partitions),
  B = Number(v.batch),
  S = Number(v['train-steps']);
const kafka = new Kafka({
  brokers,
  clientId: 'lionctr-bench',
  logLevel: logLevel.NOTHING,
  connectionTimeout: 3000,
  retry: { retries: 2 },
});
const admin = kafka.admin();
try {
  await admin.connect();
} catch (e) {
  console.error(`no Kafka broker at ${brokers.join(',')} (${(e as Error).message}); start one with ops/kafka/start.sh`);
  process.exit(2);
}
const topic = `bench-ingest-${Date.now().toString(36)}`;
await admin.createTopics({
  topics: [
    { topic, numPartitions: P },
    { topic: `${topic}.dlq`, numPartitions: 1 },
  ],
  waitForLeaders: true,
});
const dir = mkdtempSync(join(tmpdir(), 'lionctr-bench-'));
try {
  const lines = readFileSync(resolve(v.input!), 'utf8')
    .split('\n')
    .filter((l) => l);
  const file = join(dir, 'clicks.tsv');
  const out: string[] = [];
  for (let i = 0; i < N; i++) out.push(lines[i % lines.length]);
  writeFileSync(file, `${out.join('\n')}\n`);
  const cfg = loadConfig(
    [],
    [
      `kafka.brokers=${JSON.stringify(brokers)}`,
      `kafka.topic="${topic}"`,
      `kafka.deadLetterTopic="${topic}.dlq"`,
      'kafka.format="criteo"',
      `kafka.queueMaxRows=${4 * B}`,
    ],
  );
  const sent = await produceFile({ kafka: cfg.kafka, topic, input: file, format: 'criteo', batchSize: 2000 });
  console.log(
    `topic ${topic}: ${sent.messages} messages in ${P} partitions ` +
      `(produced at ${Math.round(sent.messages_per_second)} msg/s); bad lines in the sample: none expected`,
  );

  // 1. read-only peer
  const consumer = kafka.consumer({ groupId: `${topic}-read`, maxWaitTimeInMs: 250 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0,
    tFirst = 0,
    tLast = 0;
  const allRead = new Promise<void>((res) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (!tFirst) tFirst = performance.now();
        seen += batch.messages.length;
        if (seen >= N) {
          tLast = performance.now();
          res();
        }
      },
    });
  });
  await allRead;
  await consumer.disconnect();
  const readRate = N / ((tLast - tFirst) / 1000);

  // 2. ingest: the lionctr source into Arrow batches (kept for step 3)
  const logger = pino({ level: 'warn' });
  const source = createKafkaSource({
    kafka: { ...cfg.kafka, groupId: `${topic}-ingest` },
    schema: criteoSlots(),
    resume: null,
    logger,
  });
  const ac = new AbortController();
  let rows = 0,
    t0 = 0;
  const keep: RecordBatch[] = [];
  for await (const rb of source.batches({ batchSize: B, signal: ac.signal })) {
    if (rb.numRows === 0) continue;
    if (!t0) t0 = performance.now();
    rows += rb.numRows;
    if (keep.length < S + 2) keep.push(rb);
    if (rows >= N) break;
  }
  const ingestRate = N / ((performance.now() - t0) / 1000);
  await source.close!();

  // 3. train on the same batches (2 warm-up steps)
  await selectBackend('auto');
  const schema = { ...criteoSlots(), embeddingDim: 16 };
  const model = new CtrModel(schema, { hidden: [256, 128], initStd: 0.01, seed: 1 });
  const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
  const step = new TrainStep(model, { dense: lp(3e-4), embedding: lp(3e-3), linear: lp(3e-3) });
  const fz = new Featurizer(schema);
  let trained = 0,
    tt = 0;
  keep.forEach((rb, i) => {
    if (i === 2) tt = performance.now();
    step.run(fz.fromRecordBatch(rb));
    if (i >= 2) trained += rb.numRows;
  });
  const trainRate = trained / ((performance.now() - tt) / 1000);

  const f = (x: number) => Math.round(x).toLocaleString('en-US');
  console.log(`\n| stage | messages/s | vs read-only | vs training |\n|---|---|---|---|`);
  console.log(`| read-only kafkajs consumer (peer) | ${f(readRate)} | 1.00 | ${(readRate / trainRate).toFixed(2)} |`);
  console.log(
    `| lionctr ingest (decode + Arrow batches of ${B}) | ${f(ingestRate)} | ` +
      `${(ingestRate / readRate).toFixed(2)} | ${(ingestRate / trainRate).toFixed(2)} |`,
  );
  console.log(
    `| training (featurize + step, batch ${B}, ${S} steps) | ${f(trainRate)} | ` +
      `${(trainRate / readRate).toFixed(2)} | 1.00 |`,
  );
  console.log(
    `\ngoal: ingest >= 3x training: ${ingestRate >= 3 * trainRate ? 'met' : 'NOT met'} ` +
      `(${(ingestRate / trainRate).toFixed(2)}x)`,
  );
} finally {
  await admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => {});
  await admin.disconnect();
  rmSync(dir, { recursive: true, force: true });
}
