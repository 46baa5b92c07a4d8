/**
 * `lionctr_export_published_timestamp_seconds` says when LATEST last moved, with the publish
 * gate on or off. With the gate off no gate decision is made, and the gauge used to be set
 * only by gate decisions: it stayed absent however many exports were published.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { criteoSlots } from '../../../src/features/schema.ts';
import { createSyntheticSource } from '../../../src/ingest/synthetic-source.ts';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import { observeTrainer } from '../../../src/metrics/train-observer.ts';
import { selectBackend } from '../../../src/model/backend.ts';
import { CtrModel } from '../../../src/model/ctr-model.ts';
import { TrainStep } from '../../../src/train/train-step.ts';
import { Trainer } from '../../../src/train/trainer.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Trains 4 batches of 256 with an export after each; returns the gauge's value (s) or null and LATEST. */
async function publishedGauge(gateOn: boolean): Promise<{ value: number | null; latest: string }> {
  await selectBackend('auto');
  const model = new CtrModel({ ...criteoSlots(), embeddingDim: 4 }, { hidden: [8], initStd: 0.01, seed: 1 });
  const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
  const step = new TrainStep(model, { dense: lp(1e-3), embedding: lp(3e-3), linear: lp(3e-3) });
  const exportDir = await mkdtemp(join(tmpdir(), 'lionctr-published-'));
  dirs.push(exportDir);
  const gate = { enabled: gateOn, examples: 256, maxAucDrop: 1, calibration: [0, 100], minClicks: 1 };
  const trainer = new Trainer({
    model,
    step,
    openSource: () => createSyntheticSource({ seed: 3, limit: 4 * 256 }),
    epochs: 1,
    batchSize: 256,
    maxExamples: 0,
    metricsWindow: 1000,
    progressSeconds: 0,
    exportDir,
    exportIntervalSeconds: 0.001,
    exportKeep: 2,
    gate: { ...gate, maxHoldSeconds: 1 },
    logger: pino({ level: 'silent' }),
  });
  const m = createMetrics();
  observeTrainer(trainer, m);
  const before = Date.now() / 1000;
  await trainer.run();
  model.dispose();
  const text = await m.registry.metrics();
  const hit = /^lionctr_export_published_timestamp_seconds ([0-9.e+]+)$/m.exec(text);
  const value = hit ? Number(hit[1]) : null;
  if (value !== null) expect(value).toBeGreaterThanOrEqual(Math.floor(before));
  return { value, latest: (await readFile(join(exportDir, 'LATEST'), 'utf8')).trim() };
}

describe('lionctr_export_published_timestamp_seconds', () => {
  it('is set when LATEST moves with the publish gate off', async () => {
    const r = await publishedGauge(false);
    expect(r.latest).not.toBe('');
    expect(r.value).not.toBeNull();
  });
  it('is set when LATEST moves with the publish gate on', async () => {
    const r = await publishedGauge(true);
    expect(r.latest).not.toBe('');
    expect(r.value).not.toBeNull();
  });
});
