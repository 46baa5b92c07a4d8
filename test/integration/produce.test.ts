// `lionctr produce`: the real CLI replays Criteo lines into a 3-partition topic of a real
// broker; line i must be at partition i % 3, offset floor(i / 3), with exactly its bytes.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useFixture } from '../helpers/fixture.ts';
import { createTopic, describeKafka, kafkaBrokers, readAll, uniqueTopic } from '../helpers/kafka.ts';
import { syntheticCriteoLines, writeLines } from '../helpers/kafka-data.ts';
import { cli } from '../helpers/kafka-process.ts';
import { CRITEO_TSV } from '../helpers/shared.ts';

const fx = useFixture();

describe('lionctr produce (no broker needed)', () => {
  it('has --help', () => {
    const r = cli('produce', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--partitions-by/);
    expect(r.stdout).toMatch(/--config/);
  });

  it('exits 2 naming a missing input file', () => {
    const r = cli(
      'produce',
      '--input',
      '/nonexistent/clicks.tsv',
      '--format',
      'criteo',
      '--topic',
      'x',
      '--brokers',
      '127.0.0.1:1',
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/\/nonexistent\/clicks\.tsv/);
  });
});

describeKafka('lionctr produce (broker)', () => {
  const N = 300;

  it(`replays ${N} Criteo lines: line i at partition i % 3, offset floor(i / 3), exact bytes`, async () => {
    const brokers = kafkaBrokers()!;
    const topic = uniqueTopic('produce');
    await createTopic(brokers, topic, 3);
    // the real sample when ../shared is there, else synthetic lines of the same shape
    const input = existsSync(CRITEO_TSV)
      ? CRITEO_TSV
      : writeLines(join(fx.tempDir('produce'), 'clicks.tsv'), syntheticCriteoLines(N));
    const lines = readFileSync(input)
      .toString('latin1')
      .split('\n')
      .filter((l) => l.length > 0)
      .slice(0, N)
      .map((l) => Buffer.from(l, 'latin1'));

    const r = cli(
      'produce',
      '--input',
      input,
      '--format',
      'criteo',
      '--topic',
      topic,
      '--brokers',
      brokers.join(','),
      '--limit',
      String(N),
      '--batch-size',
      '64',
    );
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ topic, messages: N, partitions: 3 });
    expect(summary.seconds).toBeGreaterThan(0);
    expect(summary.messages_per_second).toBeGreaterThan(0);

    const msgs = await readAll(brokers, topic);
    expect(msgs.length).toBe(N);
    for (const p of [0, 1, 2]) expect(msgs.filter((m) => m.partition === p).length, `partition ${p}`).toBe(N / 3);
    const at = new Map(msgs.map((m) => [`${m.partition}@${m.offset}`, m]));
    for (let i = 0; i < N; i++) {
      const m = at.get(`${i % 3}@${Math.floor(i / 3)}`);
      expect(m, `line ${i}`).toBeDefined();
      expect(m!.value.equals(lines[i]), `bytes of line ${i}`).toBe(true);
      expect(m!.headers['lionctr-format']?.toString()).toBe('criteo');
    }
  });

  it('exits 2 with a clear message naming --topic when the topic does not exist', () => {
    const topic = uniqueTopic('produce-missing');
    const r = cli(
      'produce',
      '--input',
      'package.json',
      '--format',
      'jsonl',
      '--topic',
      topic,
      '--brokers',
      kafkaBrokers()!.join(','),
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`topic "${topic}" does not exist.*--topic`));
  });
});
