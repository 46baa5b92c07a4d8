/**
 * The publish gate on a Kafka trainer, killed with -9 while it holds rows back (issue 11
 * "Publish gate"; the cause of kafka-crash.test.ts's timeouts with the gate on): the gate
 * holds the batches after an export untrained, and a checkpoint meanwhile committed the
 * consumer's offsets past them (the source counts taken rows as handed to training), so the
 * next trainer started after rows that no checkpoint held: lost, and a run with
 * train.maxExamples never ended. Now no checkpoint (so no commit) is written while the gate holds.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useFixture } from '../helpers/fixture.ts';
import { describeKafka } from '../helpers/kafka.ts';
import { exactlyOnce, goodPositions, lineage, linePosition, trainedCounts } from '../helpers/kafka-audit.ts';
import { brokerTopicWithLines, produceCriteo } from '../helpers/kafka-data.ts';
import { kafkaTrainerSets, spawnTrainer } from '../helpers/kafka-process.ts';

const fx = useFixture();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeKafka('publish gate on a Kafka trainer', () => {
  it('killed -9 while the gate holds rows: a restart trains every one of them, exactly once', async () => {
    const { brokers, dir, topic, path, lines, bad } = await brokerTopicWithLines(fx, 'gate-kill', 1, 3000);
    const good = lines.length - bad.size;
    const sets = (extra: Record<string, unknown>) =>
      kafkaTrainerSets(brokers, topic, dir, {
        'checkpoint.intervalSeconds': 0.2,
        'kafka.lingerMs': 200,
        'export.gate.enabled': true,
        ...extra,
      });
    await produceCriteo(sets({}), topic, path, 100_000);
    const audit = join(dir, 'audit.jsonl');
    const steps = () => (existsSync(audit) ? lineage(audit).length : 0);

    // a first run trains 512 examples and publishes (nothing served yet: ungated)
    const first = spawnTrainer(sets({ 'train.maxExamples': 512 }), fx);
    const r1 = await first.exited;
    expect(r1.code, r1.err).toBe(0);
    const before = steps();

    // resumed: its first export is judged against LATEST, so the gate holds every batch after
    // it (more examples wanted than the topic has, for an hour) while checkpoints fall due
    const holding = spawnTrainer(
      sets({ 'train.maxExamples': good + 1, 'export.gate.examples': 100_000, 'export.gate.maxHoldSeconds': 3600 }),
      fx,
    );
    const t0 = Date.now();
    while (steps() <= before && holding.c.exitCode === null && Date.now() - t0 < 60_000) await sleep(20);
    expect(steps(), 'the resumed trainer trained its first batch').toBeGreaterThan(before);
    await sleep(3000); // every message fetched and held; 15 checkpoint periods pass
    holding.c.kill('SIGKILL');
    const r2 = await holding.exited;
    expect(r2.code, r2.err).toBe(null);

    // restarted (gate off: nothing to judge here): it must find and train every held row
    const last = spawnTrainer(sets({ 'train.maxExamples': good, 'export.gate.enabled': false }), fx);
    const ended = await Promise.race([last.exited, sleep(60_000).then(() => null)]);
    if (ended === null) last.c.kill('SIGKILL');
    const want = goodPositions(lines, bad, linePosition(topic, 1));
    expect(exactlyOnce(trainedCounts(lineage(audit)), want)).toEqual({ dup: [], missing: [], extra: [] });
    expect(ended?.code, ended?.err ?? 'the restarted trainer never reached train.maxExamples').toBe(0);
  }, 180_000);
});
