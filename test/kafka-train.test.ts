import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, expect, it } from 'vitest';
import { createTrainer } from '../src/cli/train-session.ts';
import { produceFile } from '../src/cli/produce.ts';
import { loadConfig } from '../src/config/schema.ts';
import { readLatestCheckpoint } from '../src/train/checkpoint.ts';
import { createTopic, describeKafka, kafkaBrokers, readAll, uniqueTopic } from './helpers/kafka.ts';
import { criteoWithBadLines, kafkaTrainerSets, lineage, trainedCounts } from './helpers/kafka-train.ts';
import { CRITEO_TSV } from './helpers/shared.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describeKafka('training from Kafka', () => {
  it('trains every good message once, sends every bad one to the dead-letter topic, commits after the checkpoint', async () => {
    const brokers = kafkaBrokers()!;
    const dir = mkdtempSync(join(tmpdir(), 'lionctr-kafka-')); dirs.push(dir);
    const topic = uniqueTopic('clicks');
    await createTopic(brokers, topic, 3);
    await createTopic(brokers, `${topic}.dlq`, 1);
    const { path, lines, bad } = criteoWithBadLines(existsSync(CRITEO_TSV) ? CRITEO_TSV : null, join(dir, 'clicks.tsv'), 2000);
    const cfg0 = loadConfig([], kafkaTrainerSets(brokers, topic, dir));
    const sent = await produceFile({ kafka: cfg0.kafka, topic, input: path, format: 'criteo' });
    expect(sent.messages).toBe(lines.length);
    const good = lines.length - bad.size;

    const cfg = loadConfig([], kafkaTrainerSets(brokers, topic, dir, { 'train.maxExamples': good, 'kafka.lingerMs': 100 }));
    const trainer = await createTrainer(cfg, pino({ level: 'warn' }), { exportDir: join(dir, 'exports') });
    const s = await trainer.run();
    expect(s.progress.examples).toBe(good);
    expect(Object.values(s.badRows).reduce((a, b) => a + b, 0)).toBe(bad.size);

    // line i went to partition i % 3 at offset floor(i / 3)
    const pos = (i: number) => `kafka:${topic}/${i % 3}@${Math.floor(i / 3)}`;
    const counts = trainedCounts(lineage(join(dir, 'audit.jsonl')));
    const want = new Set(lines.map((_, i) => i).filter((i) => !bad.has(i)).map(pos));
    expect(counts.size).toBe(want.size);
    for (const [k, n] of counts) { expect(want.has(k), k).toBe(true); expect(n, k).toBe(1); }

    const dead = await readAll(brokers, `${topic}.dlq`);
    expect(dead.map((m) => `kafka:${topic}/${m.headers['lionctr-partition']}@${m.headers['lionctr-offset']}`).sort()).toEqual([...bad.keys()].map(pos).sort());
    for (const m of dead) {
      const i = Number(m.headers['lionctr-offset']) * 3 + Number(m.headers['lionctr-partition']);
      expect(String(m.headers['lionctr-reason'])).toBe(bad.get(i));
      expect(m.value.toString()).toBe(lines[i]);
    }

    // the final checkpoint holds the next offsets, and the group committed them after it
    const ck = await readLatestCheckpoint(join(dir, 'checkpoints'));
    expect(ck!.meta.examples).toBe(good);
    const { testKafka } = await import('./helpers/kafka.ts');
    const admin = testKafka(brokers).admin();
    await admin.connect();
    const committed = (await admin.fetchOffsets({ groupId: `${topic}-trainers`, topics: [topic] }))[0].partitions;
    await admin.disconnect();
    for (const c of committed) {
      const key = `kafka:${topic}/${c.partition}`;
      expect(Number(c.offset), key).toBe(ck!.meta.sourceOffsets[key]);
      expect(JSON.parse(c.metadata!).state).toBe('released');
    }
  });
});
