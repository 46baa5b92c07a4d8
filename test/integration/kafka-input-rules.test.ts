/**
 * The Kafka source reads messages as the file source reads a file (issue 14), against the real
 * broker: libSVM messages with `source.libsvm.fieldStarts` (the source did not pass them to its
 * decoder: every message was `unknown_field`), JSON messages with `schema.time` as a pattern
 * (the export's watermark is the latest hour) and `schema.unknownSlots=reject` (a message with an
 * unknown slot is counted and dead-lettered as `unknown_slot`), and `kafka.format=arrow`: Arrow
 * IPC streams of one to ten rows per message, every row trained, a message that is not Arrow
 * dead-lettered as `bad_arrow`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import pino from 'pino';
import { expect, it } from 'vitest';
import { produceFile } from '../../src/cli/produce-file.ts';
import { createTrainer } from '../../src/cli/train-session.ts';
import { loadConfig } from '../../src/config/schema.ts';
import { useFixture } from '../helpers/fixture.ts';
import { describeKafka, readAll, testKafka } from '../helpers/kafka.ts';
import { onePartitionTopic } from '../helpers/kafka-data.ts';
import { kafkaTrainerSets } from '../helpers/kafka-process.ts';
import { mulberry32 } from '../helpers/prng.ts';

const fx = useFixture();
const SLOTS = { 'schema.numeric': ['n1'], 'schema.categorical': ['c1', 'c2'] };

/** Trains with `extra` sets on the topic until `examples`; the summary, dead letters by reason and the manifest. */
async function train(brokers: string[], topic: string, dir: string, examples: number, extra: Record<string, unknown>) {
  const sets = kafkaTrainerSets(brokers, topic, dir, { ...SLOTS, 'train.maxExamples': examples, ...extra });
  const trainer = await createTrainer(loadConfig([], sets), pino({ level: 'error' }), {
    exportDir: join(dir, 'exports'),
  });
  const s = await trainer.run();
  const dead: Record<string, number> = {};
  for (const m of await readAll(brokers, `${topic}.dlq`)) {
    const r = String(m.headers['lionctr-reason']);
    dead[r] = (dead[r] ?? 0) + 1;
  }
  const latest = readFileSync(join(dir, 'exports', 'LATEST'), 'utf8').trim();
  const manifest = JSON.parse(readFileSync(join(dir, 'exports', latest, 'manifest.json'), 'utf8'));
  return { s, dead, manifest };
}

describeKafka('Kafka messages read as files are', () => {
  it('libsvm with source.libsvm.fieldStarts: index ranges map to slots', async () => {
    const dir = fx.tempDir('kafka-fieldstarts');
    const rnd = mulberry32(3);
    // field 0 = n1 (index 0), field 1 = c1 (indices 1..999), field 2 = c2 (1000..)
    const lines = Array.from(
      { length: 300 },
      (_, i) => `${i % 3 === 0 ? 1 : 0} 0:${(rnd() * 5).toFixed(2)} ${1 + (i % 40)}:1 ${1000 + (i % 7)}:1`,
    );
    const { brokers, topic, file } = await onePartitionTopic('fieldstarts', lines, dir);
    const sets = kafkaTrainerSets(brokers, topic, dir, SLOTS);
    await produceFile({ kafka: loadConfig([], sets).kafka, topic, input: file, format: 'libsvm' });
    const { s, dead } = await train(brokers, topic, dir, lines.length, {
      'kafka.format': 'libsvm',
      'source.libsvm.fieldStarts': [0, 1, 1000],
    });
    expect(dead).toEqual({});
    expect(s.badRows).toEqual({});
    expect(s.progress.examples).toBe(lines.length);
  }, 120_000);

  it('JSON lines with schema.time as a pattern and schema.unknownSlots=reject', async () => {
    const dir = fx.tempDir('kafka-jsontime');
    const hour = (i: number) => `141021${String(i % 24).padStart(2, '0')}`;
    const lines = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify({ label: i % 4 === 0 ? 1 : 0, hour: hour(i), features: { n1: i % 9, c1: `a${i % 5}` } }),
    );
    lines.splice(50, 0, JSON.stringify({ label: 1, hour: hour(3), features: { c1: 'a', zz: 1 } }));
    lines.splice(120, 0, JSON.stringify({ label: 0, hour: '14102', features: {} }));
    const { brokers, topic, file } = await onePartitionTopic('jsontime', lines, dir);
    const sets = kafkaTrainerSets(brokers, topic, dir, SLOTS);
    await produceFile({ kafka: loadConfig([], sets).kafka, topic, input: file, format: 'jsonl' });
    const { s, dead, manifest } = await train(brokers, topic, dir, 200, {
      'kafka.format': 'jsonl',
      'schema.time.column': 'hour',
      'schema.time.format': 'YYMMDDHH',
    });
    expect(s.progress.examples).toBe(200);
    expect(dead).toEqual({ unknown_slot: 1, bad_timestamp: 1 });
    expect(s.badRows).toEqual(dead);
    // the hours of the pattern, not the message timestamps (now)
    expect(manifest.event_time_watermark_ms).toBe(Date.UTC(2014, 9, 21, 23));
  }, 120_000);

  it('kafka.format=arrow: Arrow IPC streams of many rows per message', async () => {
    const dir = fx.tempDir('kafka-arrow');
    const { brokers, topic } = await onePartitionTopic('arrowmsg', [], dir);
    const messages: { value: Buffer }[] = [];
    let rows = 0;
    for (let m = 0; m < 40; m++) {
      const n = 1 + (m % 10);
      const t = tableFromArrays({
        label: Int8Array.from({ length: n }, (_, i) => ((rows + i) % 5 === 0 ? 1 : 0)),
        n1: Float64Array.from({ length: n }, (_, i) => (rows + i) % 11),
        c1: Array.from({ length: n }, (_, i) => `x${(rows + i) % 13}`),
        c2: Array.from({ length: n }, (_, i) => `y${(rows + i) % 3}`),
      });
      messages.push({ value: Buffer.from(tableToIPC(t, 'stream')) });
      rows += n;
      if (m === 17) messages.push({ value: Buffer.from('{"label":1}') }); // not Arrow
    }
    const producer = testKafka(brokers).producer();
    await producer.connect();
    await producer.send({ topic, messages });
    await producer.disconnect();
    const { s, dead } = await train(brokers, topic, dir, rows, {
      'kafka.format': 'arrow',
      'kafka.maxMessageBytes': 1 << 20,
      'train.batchSize': 16,
    });
    expect(rows).toBe(220);
    expect(s.progress.examples).toBe(rows);
    expect(dead).toEqual({ bad_arrow: 1 });
    expect(s.badRows).toEqual(dead);
  }, 120_000);
});
