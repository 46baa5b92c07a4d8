import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { expect, it } from 'vitest';
import { createTrainer } from '../../src/cli/train-session.ts';
import { loadConfig } from '../../src/config/schema.ts';
import { decodeCriteoLine } from '../../src/ingest/criteo-decoder.ts';
import { partitionOf } from '../../src/ingest/position-key.ts';
import { RecordBatchBuilder } from '../../src/ingest/arrow/record-batch-builder.ts';
import { readLatestCheckpoint } from '../../src/train/checkpoint.ts';
import { captureState } from '../../src/train/train-state.ts';
import { useFixture } from '../helpers/fixture.ts';
import { describeKafka } from '../helpers/kafka.ts';
import { exactlyOnce, goodPositions, lineage, linePosition, trainedCounts } from '../helpers/kafka-audit.ts';
import { brokerTopicWithLines, produceCriteo } from '../helpers/kafka-data.ts';
import { kafkaTrainerSets, spawnTrainer } from '../helpers/kafka-process.ts';
import { stateDigest } from '../helpers/state-digest.ts';

const fx = useFixture();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const digest = stateDigest;

describeKafka('crash safety', () => {
  it('SIGKILLed 5 times at random moments and restarted: every good message trained exactly once, ' +
    'final model = an uninterrupted run on the same batches', async () => {
    const { brokers, dir, topic, path, lines, bad } = await brokerTopicWithLines(fx, 'crash', 2, 9000);
    const sets = kafkaTrainerSets(brokers, topic, dir, {
      'train.maxExamples': lines.length - bad.size,
      'checkpoint.intervalSeconds': 0.4,
      'kafka.lingerMs': 2000,
    });
    // the stream arrives while the trainer runs (about 40 s), so kills land mid-stream
    const producing = produceCriteo(sets, topic, path, 225);
    let produced = false;
    void producing.then(() => {
      produced = true;
    });
    const audit = join(dir, 'audit.jsonl');
    const start = () => spawnTrainer(sets, fx);
    const steps = () => (existsSync(audit) ? lineage(audit).length : 0);

    const kills: string[] = [];
    let midStream = 0;
    for (let kill = 0; kill < 5; kill++) {
      const before = steps();
      const { c, exited } = start();
      const t0 = Date.now();
      while (steps() <= before && c.exitCode === null && Date.now() - t0 < 60_000) await sleep(20);
      await sleep(Math.random() * 2500);
      const wasProducing = !produced;
      c.kill('SIGKILL');
      const r = await exited;
      expect(r.code === null || r.code === 0, r.err).toBe(true); // killed (or, rarely, already done)
      if (wasProducing) midStream++;
      kills.push(`${steps()}${wasProducing ? '' : '(after the stream ended)'}`);
    }
    await producing;
    expect(midStream).toBeGreaterThanOrEqual(3);
    const { exited } = start();
    const last = await exited;
    expect(last.code, last.err).toBe(0);

    // exactly once, per partition and offset
    const trained = lineage(audit);
    const want = goodPositions(lines, bad, linePosition(topic, 2));
    expect(exactlyOnce(trainedCounts(trained), want)).toEqual({ dup: [], missing: [], extra: [] });

    // the same batches through one uninterrupted trainer give the same model, bit for bit
    const cfg = loadConfig([], [...sets, 'checkpoint.enabled=false']);
    const ref = await createTrainer(cfg, pino({ level: 'silent' }), { exportDir: null });
    const slots = { numeric: cfg.schema.numeric, categorical: cfg.schema.categorical };
    for (const s of trained) {
      const b = new RecordBatchBuilder(slots, s.rows.length);
      for (const [k, o] of s.rows) {
        const p = partitionOf(k);
        b.pushRow(decodeCriteoLine(lines[o * 2 + p], k), p, o);
      }
      ref.opts.step.run(ref.featurizer.fromRecordBatch(b.finish()));
    }
    const final = await readLatestCheckpoint(join(dir, 'checkpoints'));
    expect(final!.step).toBe(trained.length);
    expect(digest(final!.state)).toBe(digest(await captureState(ref.opts.step)));
    console.log(
      `crash test: ${trained.length} steps in the final lineage; lineage length after each kill: ${kills.join(', ')}`,
    );
  }, 300_000);
});
