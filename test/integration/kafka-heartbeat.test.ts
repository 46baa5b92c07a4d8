/**
 * Issue 13's heartbeat test: a training step that holds the training thread for 30 s, with
 * kafka.sessionTimeoutMs 6000. With the source on its ingest thread (source.thread.enabled,
 * src/ingest/threaded) the consumer's heartbeats flow during the step: the group never
 * rebalances (one join in the log, no "not aware of this member") and every good message is
 * trained exactly once. The control: the same run with the consumer on the training thread
 * loses its membership (the defect the ingest thread ends), so the stall is long enough to tell.
 */
import { join } from 'node:path';
import pino from 'pino';
import { expect, it } from 'vitest';
import { createTrainer } from '../../src/cli/train-session.ts';
import { produceFile } from '../../src/cli/produce-file.ts';
import { loadConfig } from '../../src/config/schema.ts';
import { useFixture } from '../helpers/fixture.ts';
import { describeKafka } from '../helpers/kafka.ts';
import { exactlyOnce, goodPositions, lineage, linePosition, trainedCounts } from '../helpers/kafka-audit.ts';
import { brokerTopicWithLines } from '../helpers/kafka-data.ts';
import { kafkaTrainerSets } from '../helpers/kafka-process.ts';

const fx = useFixture();
const STALL_MS = 30_000;

/** Trains the topic once with the first step held STALL_MS (Atomics.wait: the thread does nothing else). */
async function stalledRun(threaded: boolean) {
  const { brokers, dir, topic, path, lines, bad } = await brokerTopicWithLines(fx, 'heartbeat', 2, 3000);
  const good = lines.length - bad.size;
  const sets = kafkaTrainerSets(brokers, topic, dir, {
    'source.thread.enabled': threaded,
    'kafka.sessionTimeoutMs': 6000,
    'kafka.heartbeatIntervalMs': 1000,
    'train.maxExamples': good,
    'train.batchSize': 512,
    'kafka.lingerMs': 100,
  });
  const cfg = loadConfig([], sets);
  await produceFile({ kafka: cfg.kafka, topic, input: path, format: 'criteo' });
  const logs: string[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => logs.push(l) });
  const trainer = await createTrainer(cfg, logger, { exportDir: join(dir, 'exports') });
  const step = trainer.opts.step;
  const run = step.run.bind(step);
  let stalledMs = 0;
  step.run = (batch) => {
    if (stalledMs === 0) {
      const t0 = performance.now();
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, STALL_MS);
      stalledMs = performance.now() - t0;
    }
    return run(batch);
  };
  const summary = await trainer.run();
  const joins = logs.filter((l) => l.includes('assigned partitions')).length;
  const lost = logs.filter((l) => /not aware of this member|rebalanc/i.test(l));
  const counts = trainedCounts(lineage(join(dir, 'audit.jsonl')));
  const once = exactlyOnce(counts, goodPositions(lines, bad, linePosition(topic, 2)));
  const first = lost[0] ? JSON.parse(lost[0]).msg : 'none';
  console.log(
    `heartbeat test, thread ${threaded ? 'on' : 'off'}: stalled ${stalledMs.toFixed(0)} ms, ${joins} join(s), ` +
      `${lost.length} membership line(s) (first: ${first}), ${summary.progress.examples} of ${good} trained`,
  );
  return { summary, good, joins, lost, once, stalledMs };
}

describeKafka('Kafka heartbeats during a long step', () => {
  it('ingest thread: a 30 s step with a 6 s session timeout, no rebalance, every message trained once', async () => {
    const r = await stalledRun(true);
    expect(r.stalledMs).toBeGreaterThanOrEqual(STALL_MS - 50);
    expect(r.lost, r.lost.join('\n')).toEqual([]);
    expect(r.joins).toBe(1);
    expect(r.summary.progress.examples).toBe(r.good);
    expect(r.once).toEqual({ dup: [], missing: [], extra: [] });
  }, 180_000);

  it('control: the consumer on the training thread loses its group membership in the same run', async () => {
    const r = await stalledRun(false);
    expect(r.stalledMs).toBeGreaterThanOrEqual(STALL_MS - 50);
    expect(r.joins + r.lost.length).toBeGreaterThan(1);
  }, 180_000);
});
