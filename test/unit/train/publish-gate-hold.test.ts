/**
 * The publish gate on a stream that goes quiet (a caught-up Kafka topic): the examples held
 * to judge an export are not held forever. A source gives 4 batches, then only the empty
 * batches an idle source yields for the trainer's turns: the export after batch 2 is decided
 * `export.gate.maxHoldSeconds` after its hold began, on the 2 batches held, which are then
 * trained; every example is trained before the run stops.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { GateEvent } from '../../../src/events/train-events.ts';
import { criteoSlots } from '../../../src/features/schema.ts';
import { RecordBatchBuilder } from '../../../src/ingest/arrow/record-batch-builder.ts';
import type { Source } from '../../../src/ingest/source.ts';
import { createSyntheticSource } from '../../../src/ingest/synthetic-source.ts';
import { selectBackend } from '../../../src/model/backend.ts';
import { CtrModel } from '../../../src/model/ctr-model.ts';
import { TrainStep } from '../../../src/train/train-step.ts';
import { Trainer } from '../../../src/train/trainer.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** 4 synthetic batches of 256, then an empty batch every 20 ms until the signal aborts. */
function quietingSource(): Source {
  const synthetic = createSyntheticSource({ seed: 3, limit: 4 * 256 });
  return {
    name: synthetic.name,
    stats: () => synthetic.stats(),
    async *batches(opts) {
      yield* synthetic.batches(opts);
      const slots = { numeric: criteoSlots().numeric, categorical: criteoSlots().categorical };
      while (!opts.signal?.aborted) {
        await new Promise((r) => setTimeout(r, 20));
        yield new RecordBatchBuilder(slots, 1).finish();
      }
    },
  };
}

describe('publish gate on a stream that goes quiet', () => {
  it('decides after maxHoldSeconds on the examples held, then trains them', async () => {
    await selectBackend('auto');
    const schema = { ...criteoSlots(), embeddingDim: 4 };
    const model = new CtrModel(schema, { hidden: [8], initStd: 0.01, seed: 1 });
    const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
    const step = new TrainStep(model, { dense: lp(1e-3), embedding: lp(3e-3), linear: lp(3e-3) });
    const exportDir = await mkdtemp(join(tmpdir(), 'lionctr-gate-hold-'));
    dirs.push(exportDir);
    const stop = new AbortController();
    const gate = { enabled: true, examples: 100_000, maxAucDrop: 0.02, calibration: [0.5, 2], minClicks: 1 };
    const trainer = new Trainer({
      model,
      step,
      openSource: () => quietingSource(),
      epochs: 1,
      batchSize: 256,
      maxExamples: 0,
      metricsWindow: 1000,
      progressSeconds: 0,
      exportDir,
      exportIntervalSeconds: 0.001,
      exportKeep: 2,
      gate: { ...gate, maxHoldSeconds: 0.3 },
      logger: pino({ level: 'silent' }),
      signal: stop.signal,
    });
    const order: string[] = [];
    const gates: (GateEvent & { at: number })[] = [];
    const exports: number[] = [];
    trainer.on('step', (e) => order.push(`step ${e.step}`));
    trainer.on('export', () => exports.push(performance.now()));
    trainer.on('gate', (e) => {
      gates.push({ ...e, at: performance.now() });
      order.push(`gate ${e.decision} ${e.examples}`);
      if (gates.length === 2) setTimeout(() => stop.abort(), 100);
    });
    const s = await trainer.run();
    expect(s.examplesThisRun).toBe(4 * 256);
    // step 1, the first export (ungated), step 2, the second export: batches 3 and 4 held
    expect(order.slice(0, 5)).toEqual(['step 1', 'gate ungated 0', 'step 2', 'gate published 512', 'step 3']);
    expect(order).toContain('step 4');
    const waited = (gates[1].at - exports[1]) / 1000;
    expect(waited).toBeGreaterThanOrEqual(0.3);
    expect(waited).toBeLessThan(5);
  }, 15_000);
});
