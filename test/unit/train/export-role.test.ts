/**
 * The trainer's export role (trainer-options.ts ExportRole; src/store/redis/export-role.ts is the one of
 * trainers sharing rows in Redis): with a role that is not held the trainer writes no export (periodic
 * or final) and no delta; with one that is held each export's write runs inside the role's `around`;
 * a role that changes hands mid-run: exports only while held.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { criteoSlots } from '../../../src/features/schema.ts';
import { createSyntheticSource } from '../../../src/ingest/synthetic-source.ts';
import { selectBackend } from '../../../src/model/backend.ts';
import { CtrModel } from '../../../src/model/ctr-model.ts';
import { TrainStep } from '../../../src/train/train-step.ts';
import { Trainer } from '../../../src/train/trainer.ts';
import type { ExportRole } from '../../../src/train/trainer-options.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Trains 8 batches of 64 with an export after every step (interval 0 s is "first and last": use 1e-9). */
async function run(role: ExportRole | null, deltas = 0) {
  await selectBackend('auto');
  const model = new CtrModel({ ...criteoSlots(), embeddingDim: 4 }, { hidden: [8], initStd: 0.01, seed: 1 });
  const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
  const step = new TrainStep(model, { dense: lp(1e-3), embedding: lp(3e-3), linear: lp(3e-3) });
  const exportDir = mkdtempSync(join(tmpdir(), 'lionctr-role-'));
  dirs.push(exportDir);
  const trainer = new Trainer({
    model,
    step,
    openSource: () => createSyntheticSource({ seed: 2, limit: 64 * 8 }),
    epochs: 1,
    batchSize: 64,
    maxExamples: 0,
    metricsWindow: 1000,
    progressSeconds: 0,
    exportDir,
    exportIntervalSeconds: 1e-9,
    deltaIntervalSeconds: deltas,
    exportKeep: 100,
    exportRole: role,
    logger: pino({ level: 'silent' }),
  });
  const summary = await trainer.run();
  model.dispose();
  const names = existsSync(exportDir) ? readdirSync(exportDir) : [];
  return { summary, versions: names.filter((n) => /^\d+$/.test(n)) };
}

describe('Trainer with an export role', () => {
  it('writes nothing while the role is not held', async () => {
    let arounds = 0;
    const role: ExportRole = {
      held: false,
      around: (w) => {
        arounds++;
        return w();
      },
    };
    const r = await run(role);
    expect(r.summary.exports).toEqual([]);
    expect(r.versions).toEqual([]);
    expect(arounds).toBe(0);
  });

  it('runs every export write inside around() while held; exports only while held when it changes hands', async () => {
    let inside = 0,
      arounds = 0;
    const held: ExportRole = {
      held: true,
      around: async (w) => {
        arounds++;
        inside++;
        try {
          return await w();
        } finally {
          inside--;
        }
      },
    };
    const r = await run(held);
    expect(r.summary.exports.length).toBeGreaterThan(1);
    expect(arounds).toBe(r.summary.exports.length);
    expect(inside).toBe(0);
    // held for the first 3 checks of `held`, then lost: the exports written are those of the first checks
    let checks = 0;
    const losing: ExportRole = {
      get held() {
        return ++checks <= 3;
      },
      around: (w) => w(),
    };
    const l = await run(losing);
    expect(l.summary.exports.length).toBeGreaterThan(0);
    expect(l.summary.exports.length).toBeLessThanOrEqual(3);
    expect(checks).toBeGreaterThan(3);
  });
});
