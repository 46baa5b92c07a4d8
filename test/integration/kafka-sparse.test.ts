/**
 * libFFM and libSVM as Kafka message formats: the Criteo sample's first 1,500 rows as libFFM
 * (and libSVM) lines, a few malformed, replayed with `produceFile` into a one-partition topic
 * (the libFFM file gzip-compressed);
 * a trainer with kafka.format=libffm (libsvm) trains every good message once and counts and
 * dead-letters every bad one by its reason.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { expect, it } from 'vitest';
import { produceFile } from '../../src/cli/produce-file.ts';
import { createTrainer } from '../../src/cli/train-session.ts';
import { loadConfig } from '../../src/config/schema.ts';
import { criteoCells, toLibffm } from '../helpers/criteo-convert.ts';
import { useFixture } from '../helpers/fixture.ts';
import { describeKafka, readAll } from '../helpers/kafka.ts';
import { onePartitionTopic } from '../helpers/kafka-data.ts';
import { kafkaTrainerSets } from '../helpers/kafka-process.ts';
import { CRITEO_TSV, haveShared } from '../helpers/shared.ts';

const fx = useFixture();

/** Malformed lines put among the good ones, with the reason each must be counted under. */
const BAD: Record<'libffm' | 'libsvm', [string, string][]> = {
  libffm: [
    ['2 0:0:1', 'bad_label'],
    ['1 13:5', 'bad_feature'],
    ['0 39:1:1', 'unknown_field'],
    ['1 13:5:1 13:6:1', 'duplicate_field'],
  ],
  libsvm: [
    ['2 0:1', 'bad_label'],
    ['1 13', 'bad_feature'],
    ['0 39:1', 'unknown_field'],
    ['1 13:1 13:1', 'duplicate_field'],
  ],
};

describeKafka('sparse message formats', () => {
  for (const format of ['libffm', 'libsvm'] as const) {
    it.skipIf(!haveShared(CRITEO_TSV))(
      `kafka.format=${format}: good messages trained, bad ones counted`,
      async () => {
        const dir = fx.tempDir(`kafka-${format}`);
        let good: string[] = toLibffm(criteoCells(CRITEO_TSV).slice(0, 1500)).trim().split('\n');
        // libSVM with the Kafka mapping (index i = field i): `field:val`, so a categorical slot only
        // says whether it is present (its id is its index)
        if (format === 'libsvm') good = good.map((l) => l.replace(/ (\d+):\d+:/g, ' $1:'));
        const badLines = BAD[format];
        const lines = [...good];
        for (const [i, [l]] of badLines.entries()) lines.splice(100 + i * 300, 0, l);
        const { brokers, topic, file } = await onePartitionTopic(format, lines, dir);
        const cfg = loadConfig(
          [],
          kafkaTrainerSets(brokers, topic, dir, { 'kafka.format': format, 'train.maxExamples': good.length }),
        );
        // libffm is replayed from a gzip-compressed copy: produce reads it as a stream, line by line
        const input = format === 'libffm' ? `${file}.gz` : file;
        if (format === 'libffm') writeFileSync(input, gzipSync(readFileSync(file)));
        const sent = await produceFile({ kafka: cfg.kafka, topic, input, format });
        expect(sent.messages).toBe(lines.length);
        const trainer = await createTrainer(cfg, pino({ level: 'error' }), { exportDir: join(dir, 'exports') });
        const s = await trainer.run();
        expect(s.progress.examples).toBe(good.length);
        const dead = await readAll(brokers, `${topic}.dlq`);
        const got: Record<string, number> = {};
        for (const m of dead)
          got[String(m.headers['lionctr-reason'])] = (got[String(m.headers['lionctr-reason'])] ?? 0) + 1;
        expect(got).toEqual(Object.fromEntries(badLines.map(([, r]) => [r, 1])));
        expect(s.badRows).toEqual(got);
      },
      120_000,
    );
  }
});
