import { join } from 'node:path';
import pino from 'pino';
import { expect, it } from 'vitest';
import { createTrainer } from '../../src/cli/train-session.ts';
import { produceFile } from '../../src/cli/produce-file.ts';
import { loadConfig } from '../../src/config/schema.ts';
import { readLatestCheckpoint } from '../../src/train/checkpoint.ts';
import { useFixture } from '../helpers/fixture.ts';
import { committedOffsets, describeKafka, kafkaBrokers, readAll } from '../helpers/kafka.ts';
import { goodPositions, lineage, linePosition, trainedCounts } from '../helpers/kafka-audit.ts';
import { onePartitionTopic, syntheticCriteoLines, topicWithLines, writeLines } from '../helpers/kafka-data.ts';
import { kafkaTrainerSets } from '../helpers/kafka-process.ts';

const fx = useFixture();
const tempTopic = (prefix: string, lines: string[]) => onePartitionTopic(prefix, lines, fx.tempDir(`kafka-${prefix}`));

describeKafka('training from Kafka', () => {
  it(
    'trains every good message once, sends every bad one to the dead-letter topic, ' + 'commits after the checkpoint',
    async () => {
      const brokers = kafkaBrokers()!;
      const dir = fx.tempDir('kafka');
      const { topic, path, lines, bad } = await topicWithLines(brokers, 'clicks', 3, dir, 2000);
      const cfg0 = loadConfig([], kafkaTrainerSets(brokers, topic, dir));
      const sent = await produceFile({ kafka: cfg0.kafka, topic, input: path, format: 'criteo' });
      expect(sent.messages).toBe(lines.length);
      const good = lines.length - bad.size;

      const cfg = loadConfig(
        [],
        kafkaTrainerSets(brokers, topic, dir, {
          'train.maxExamples': good,
          'kafka.lingerMs': 100,
          'kafka.queueMaxRows': 300,
        }),
      );
      const trainer = await createTrainer(cfg, pino({ level: 'error' }), { exportDir: join(dir, 'exports') });
      const s = await trainer.run();
      expect(s.progress.examples).toBe(good);
      expect(Object.values(s.badRows).reduce((a, b) => a + b, 0)).toBe(bad.size);

      // line i went to partition i % 3 at offset floor(i / 3)
      const pos = linePosition(topic, 3);
      const counts = trainedCounts(lineage(join(dir, 'audit.jsonl')));
      const want = goodPositions(lines, bad, pos);
      expect(counts.size).toBe(want.size);
      for (const [k, n] of counts) {
        expect(want.has(k), k).toBe(true);
        expect(n, k).toBe(1);
      }

      const dead = await readAll(brokers, `${topic}.dlq`);
      expect(
        dead.map((m) => `kafka:${topic}/${m.headers['lionctr-partition']}@${m.headers['lionctr-offset']}`).sort(),
      ).toEqual([...bad.keys()].map(pos).sort());
      for (const m of dead) {
        const i = Number(m.headers['lionctr-offset']) * 3 + Number(m.headers['lionctr-partition']);
        expect(String(m.headers['lionctr-reason'])).toBe(bad.get(i));
        expect(m.value.toString()).toBe(lines[i]);
      }

      // the Arrow batches: topic in the schema metadata, each row's partition, offset and cells;
      // a slow reader with a small queue makes the consumer pause and resume (backpressure)
      const { createKafkaSource } = await import('../../src/ingest/kafka/source.ts');
      const peek = createKafkaSource({
        kafka: { ...cfg.kafka, groupId: `${topic}-peek`, deadLetterTopic: '', queueMaxRows: 100 },
        schema: { numeric: cfg.schema.numeric, categorical: cfg.schema.categorical },
        resume: null,
        logger: pino({ level: 'error' }),
      });
      const seen: string[] = [];
      for await (const rb of peek.batches({ batchSize: 64 })) {
        expect(rb.schema.metadata.get('lionctr.source')).toBe(`kafka:${topic}`);
        for (let r = 0; r < rb.numRows; r++) {
          const p = rb.getChild('source_partition')!.get(r) as number,
            o = rb.getChild('source_offset')!.get(r) as number;
          const line = lines[o * 3 + p].split('\t');
          expect(rb.getChild('label')!.get(r), `label at ${p}@${o}`).toBe(Number(line[0]));
          expect(rb.getChild('C1')!.get(r) ?? '', `C1 at ${p}@${o}`).toBe(line[14]);
          seen.push(pos(o * 3 + p));
        }
        if (seen.length >= 1000) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await peek.close!();
      expect(peek.backpressurePauses!()).toBeGreaterThan(0);
      expect(new Set(seen).size).toBe(seen.length);
      for (const k of seen) expect(want.has(k), k).toBe(true);
      // per partition, the rows seen are the first good ones, in order, none skipped
      for (const part of [0, 1, 2]) {
        const got = seen.filter((k) => k.includes(`/${part}@`));
        const expected = [...want]
          .filter((k) => k.includes(`/${part}@`))
          .sort((a, b) => Number(a.split('@')[1]) - Number(b.split('@')[1]))
          .slice(0, got.length);
        expect(got).toEqual(expected);
      }

      // the final checkpoint holds the next offsets, and the group committed them after it
      const ck = await readLatestCheckpoint(join(dir, 'checkpoints'));
      expect(ck!.meta.examples).toBe(good);
      for (const c of await committedOffsets(brokers, `${topic}-trainers`, topic)) {
        const key = `kafka:${topic}/${c.partition}`;
        // at the checkpoint's position, or past it over bad messages already dead-lettered
        expect(Number(c.offset), key).toBeGreaterThanOrEqual(ck!.meta.sourceOffsets[key]);
        const skipped = Number(c.offset) - ck!.meta.sourceOffsets[key];
        for (let o = ck!.meta.sourceOffsets[key]; o < Number(c.offset); o++)
          expect(bad.has(o * 3 + c.partition), `${key}@${o} committed past untrained`).toBe(true);
        expect(skipped).toBeLessThanOrEqual(bad.size);
        expect(JSON.parse(c.metadata!).state).toBe('released');
      }
    },
  );

  it('rows cut from the last batch by train.maxExamples are not committed: the next run trains them', async () => {
    const { brokers, dir, topic, file } = await tempTopic('cut', syntheticCriteoLines(1000));
    const sets = (max: number) =>
      kafkaTrainerSets(brokers, topic, dir, { 'kafka.lingerMs': 500, 'train.maxExamples': max });
    await produceFile({ kafka: loadConfig([], sets(0)).kafka, topic, input: file, format: 'criteo' });
    for (const max of [300, 1000]) {
      const t = await createTrainer(loadConfig([], sets(max)), pino({ level: 'silent' }), {
        exportDir: join(dir, 'exports'),
      });
      expect((await t.run()).progress.examples).toBe(max);
    }
    const counts = trainedCounts(lineage(join(dir, 'audit.jsonl')));
    expect(counts.size).toBe(1000);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it(
    'kafka.fromBeginning=false and no committed offset: starts at the end as of joining, ' +
      'and trains every message produced after that',
    async () => {
      const { brokers, dir, topic, file } = await tempTopic('latest', syntheticCriteoLines(50));
      const later = writeLines(join(dir, 'later.tsv'), syntheticCriteoLines(10));
      const sets = kafkaTrainerSets(brokers, topic, dir, {
        'kafka.lingerMs': 50,
        'kafka.fromBeginning': false,
        'train.maxExamples': 10,
      });
      const kafka = loadConfig([], sets).kafka;
      await produceFile({ kafka, topic, input: file, format: 'criteo' });
      const ac = new AbortController();
      const t = await createTrainer(loadConfig([], sets), pino({ level: 'silent' }), {
        exportDir: join(dir, 'exports'),
        signal: ac.signal,
      });
      let joined = false;
      t.on('lag', (l: { lag: number }[]) => {
        if (l.length) joined = true;
      });
      const done = t.run();
      const t0 = Date.now();
      while (!joined && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
      expect(joined).toBe(true);
      await new Promise((r) => setTimeout(r, 1500)); // the consumer has its fetch position (the end) by now
      await produceFile({ kafka, topic, input: later, format: 'criteo' });
      const stop = setTimeout(() => ac.abort(), 20_000);
      const summary = await done;
      clearTimeout(stop);
      // the batch that brought offsets 50-59 must not be skipped as "already at the end"
      expect(summary.examplesThisRun).toBe(10);
      const counts = trainedCounts(lineage(join(dir, 'audit.jsonl')));
      expect([...counts.keys()].sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => `kafka:${topic}/0@${50 + i}`).sort(),
      );
    },
  );

  it(
    'bad messages at the end of a partition are committed past after the checkpoint: ' +
      'a restart does not dead-letter them again, lag goes to 0 (after the restart too, with no new message)',
    async () => {
      const tail = [...syntheticCriteoLines(40), 'bad one', 'bad two', 'bad three'];
      const { brokers, dir, topic, file } = await tempTopic('tail', tail);
      const sets = kafkaTrainerSets(brokers, topic, dir, { 'kafka.lingerMs': 50 });
      await produceFile({ kafka: loadConfig([], sets).kafka, topic, input: file, format: 'criteo' });
      const runUntilCaughtUp = async () => {
        const ac = new AbortController();
        const t = await createTrainer(loadConfig([], sets), pino({ level: 'silent' }), {
          exportDir: join(dir, 'exports'),
          signal: ac.signal,
        });
        let lag = -1;
        let group = '';
        t.on('lag', (l: { group: string; lag: number }[]) => {
          if (l.length) ({ lag, group } = l[0]);
        });
        const done = t.run();
        const t0 = Date.now();
        while (lag !== 0 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 50));
        ac.abort();
        return { summary: await done, lag, group };
      };
      const first = await runUntilCaughtUp();
      expect(first.lag).toBe(0);
      expect(first.group).toBe(`${topic}-trainers`); // the lag metric's group label (kafka.groupId)
      expect(first.summary.examplesThisRun).toBe(40);
      const [committed] = await committedOffsets(brokers, `${topic}-trainers`, topic);
      expect(Number(committed.offset)).toBe(43);
      const second = await runUntilCaughtUp();
      expect(second.lag).toBe(0); // from the partition's high watermark at assignment: no message arrives
      expect(second.summary.examplesThisRun).toBe(0);
      expect((await readAll(brokers, `${topic}.dlq`)).length).toBe(3);
    },
  );
});
