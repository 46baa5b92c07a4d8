/**
 * The trainer's count of non-finite steps in a row (issue 11): each skipped step is logged
 * and emitted, a good step resets the count, `maxNonfiniteSteps` in a row stop the run with
 * LIONCTR_DIVERGED; skipped batches still count as consumed. The bad batches are real: a
 * NaN numeric input of one example, detected by TrainStep itself.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { NonFiniteEvent } from '../../../src/events/train-events.ts';
import type { FeatureBatch } from '../../../src/features/feature-batch.ts';
import { createSyntheticSource } from '../../../src/ingest/synthetic-source.ts';
import { CtrModel } from '../../../src/model/ctr-model.ts';
import { selectBackend } from '../../../src/model/backend.ts';
import { criteoSlots } from '../../../src/features/schema.ts';
import { TrainStep } from '../../../src/train/train-step.ts';
import { Trainer } from '../../../src/train/trainer.ts';

/** A TrainStep whose i-th batch gets a NaN numeric input where `bad[i]` is true. */
class PoisonedStep extends TrainStep {
  private i = 0;
  constructor(
    model: CtrModel,
    private readonly bad: boolean[],
  ) {
    const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
    super(model, { dense: lp(1e-3), embedding: lp(3e-3), linear: lp(3e-3) });
  }
  override run(b: FeatureBatch) {
    if (!this.bad[this.i++]) return super.run(b);
    const dense = b.dense.slice();
    dense[0] = Number.NaN;
    return super.run({ ...b, dense });
  }
}

/** A trainer over `bad.length` synthetic batches of 64, and what it logged and emitted. */
async function trainWith(bad: boolean[], maxNonfiniteSteps: number) {
  await selectBackend('auto');
  const schema = { ...criteoSlots(), embeddingDim: 4 };
  const model = new CtrModel(schema, { hidden: [8], initStd: 0.01, seed: 1 });
  const step = new PoisonedStep(model, bad);
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const trainer = new Trainer({
    model,
    step,
    openSource: () => createSyntheticSource({ seed: 2, limit: 64 * bad.length }),
    epochs: 1,
    batchSize: 64,
    maxExamples: 0,
    metricsWindow: 1000,
    progressSeconds: 0,
    exportDir: null,
    exportIntervalSeconds: 0,
    exportKeep: 1,
    maxNonfiniteSteps,
    logger: pino({ level: 'warn' }, sink),
  });
  const events: NonFiniteEvent[] = [];
  trainer.on('nonfinite', (e) => events.push(e));
  const run = trainer.run();
  return { run, events, lines, step, trainer, model };
}

const pattern = (s: string) => [...s].map((c) => c === 'x');

describe('non-finite steps in a row', () => {
  it('a good step resets the count: 2 bad, 1 good, 2 bad with a limit of 3 trains to the end', async () => {
    const t = await trainWith(pattern('.xx.xx.'), 3);
    const s = await t.run;
    expect(t.events.map((e) => e.inARow)).toEqual([1, 2, 1, 2]);
    expect(t.events.map((e) => e.step)).toEqual([1, 1, 2, 2]); // the step counter does not move
    expect(t.step.step).toBe(3); // 3 good steps taken
    expect(s.examplesThisRun).toBe(7 * 64); // skipped batches count as consumed
    const warned = t.lines.filter((l) => l.level === 40 && /skipped the update/.test(l.msg));
    expect(warned.length).toBe(4);
    expect(warned[0].msg).toMatch(/after step 1: loss NaN; .*\(1 in a row; training stops at 3/);
    t.model.dispose();
  });

  it('the limit in a row stops the run with LIONCTR_DIVERGED, saying what and where', async () => {
    const t = await trainWith(pattern('.x.xxx..'), 3);
    await expect(t.run).rejects.toMatchObject({
      code: 'LIONCTR_DIVERGED',
      where: 'train.maxNonfiniteSteps',
      message: expect.stringMatching(/^training diverged: 3 steps in a row had a non-finite loss or gradient/),
    });
    expect(t.events.map((e) => e.inARow)).toEqual([1, 1, 2, 3]);
    expect(t.trainer.examples).toBe(6 * 64); // stopped at the 6th batch
    t.model.dispose();
  });
});
