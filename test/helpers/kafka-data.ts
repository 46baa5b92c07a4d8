/**
 * Test data of the Kafka tests: Criteo-format lines (synthetic, or the ../shared sample),
 * files of them with bad lines planted, and fresh topics (with their `.dlq`) paired with
 * such a file, ready for `produceFile` (src/cli/produce-file.ts) to replay.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { produceFile, type ProduceOptions, type ProduceSummary } from '../../src/cli/produce-file.ts';
import { loadConfig } from '../../src/config/schema.ts';
import type { Fixture } from './fixture.ts';
import { createTopic, kafkaBrokers, uniqueTopic } from './kafka.ts';
import { CRITEO_TSV } from './shared.ts';

/**
 * `n` Criteo-format lines (label, 13 integer cells, 26 hex categorical cells; some empty),
 * deterministic, with a label that depends on two of the slots so that a model can learn.
 */
export function syntheticCriteoLines(n: number, seed = 7): string[] {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const ints = Array.from({ length: 13 }, () =>
      rnd() < 0.2 ? '' : String(Math.floor(-Math.log(rnd() + 1e-9) * 20)),
    );
    const cats = Array.from({ length: 26 }, (_, j) =>
      rnd() < 0.1 ? '' : ((Math.floor(rnd() * (20 + j * 40)) * 2654435761) >>> 0).toString(16).padStart(8, '0'),
    );
    const p = 0.05 + 0.4 * (parseInt(cats[0] || '0', 16) % 3 === 0 ? 1 : 0) + 0.2 * (Number(ints[0] || 0) > 20 ? 1 : 0);
    out.push([rnd() < p ? 1 : 0, ...ints, ...cats].join('\t'));
  }
  return out;
}

/** Writes `lines` to `path`, one per line (with a final newline); returns the path. */
export function writeLines(path: string, lines: string[]): string {
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/**
 * Writes `n` Criteo lines (`src`, a Criteo TSV file, or synthetic ones when null) with bad
 * lines planted; returns the path, all lines and which line indexes are bad, by reason.
 */
export function criteoWithBadLines(
  src: string | null,
  out: string,
  n: number,
): { path: string; lines: string[]; bad: Map<number, string> } {
  const good = src
    ? readFileSync(src, 'utf8')
        .split('\n')
        .filter((l) => l.length > 0)
        .slice(0, n)
    : syntheticCriteoLines(n);
  const lines: string[] = [];
  const bad = new Map<number, string>();
  const plant = [
    ['this is not a criteo line', 'wrong_field_count'],
    [good[0].replace(/^\d/, '2'), 'bad_label'],
    [good[1].replace(/^(\d)\t[^\t]*/, '$1\tabc'), 'bad_number'],
    [`${good[2]}\t${'x'.repeat(70_000)}`, 'oversized'],
  ];
  good.forEach((l, i) => {
    lines.push(l);
    if (i % 250 === 100) {
      const [text, reason] = plant[((i / 250) | 0) % plant.length];
      bad.set(lines.length, reason);
      lines.push(text);
    }
  });
  writeLines(out, lines);
  return { path: out, lines, bad };
}

/**
 * A fresh topic `<prefix>-...` with `partitions` partitions and its `.dlq`, plus `n` Criteo
 * lines (bad ones planted; the ../shared sample when present) in `dir`/clicks.tsv.
 */
export async function topicWithLines(brokers: string[], prefix: string, partitions: number, dir: string, n: number) {
  const topic = uniqueTopic(prefix);
  await createTopic(brokers, topic, partitions);
  await createTopic(brokers, `${topic}.dlq`, 1);
  return { topic, ...criteoWithBadLines(existsSync(CRITEO_TSV) ? CRITEO_TSV : null, join(dir, 'clicks.tsv'), n) };
}

/**
 * topicWithLines on the test broker, its file in a fresh temp dir `fx.tempDir(prefix)`; also
 * returns the brokers and that dir.
 */
export async function brokerTopicWithLines(fx: Fixture, prefix: string, partitions: number, n: number) {
  const brokers = kafkaBrokers()!;
  const dir = fx.tempDir(prefix);
  return { brokers, dir, ...(await topicWithLines(brokers, prefix, partitions, dir, n)) };
}

/**
 * Replays the Criteo file `input` into `topic` (produceFile) with the kafka section of a trainer's
 * `sets`, `rate` messages per second in batches of 50; `range` skips or limits lines.
 */
export function produceCriteo(
  sets: string[],
  topic: string,
  input: string,
  rate: number,
  range: Pick<ProduceOptions, 'skip' | 'limit'> = {},
): Promise<ProduceSummary> {
  const kafka = loadConfig([], sets).kafka;
  return produceFile({ kafka, topic, input, format: 'criteo', rate, batchSize: 50, ...range });
}

/** A fresh 1-partition topic (and its .dlq) and a file `dir`/<prefix>.tsv of `lines` to produce into it. */
export async function onePartitionTopic(prefix: string, lines: string[], dir: string) {
  const brokers = kafkaBrokers()!;
  const topic = uniqueTopic(prefix);
  await createTopic(brokers, topic, 1);
  await createTopic(brokers, `${topic}.dlq`, 1);
  return { brokers, dir, topic, file: writeLines(join(dir, `${prefix}.tsv`), lines) };
}
