import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { criteoSlots } from '../../src/features/schema.ts';
import { createFileSource } from '../../src/ingest/file-source.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { CtrModel } from '../../src/model/ctr-model.ts';
import { TrainStep } from '../../src/train/train-step.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { jsonLines } from '../helpers/json-lines.ts';

// The trainer loop on a real JSON-lines file with bad rows: every good row is trained
// once per pass, bad rows are counted and skipped, and the export records the next line
// to read and the event-time watermark.
describe('trainer on a file source', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('trains every good row, skips bad ones, exports offsets and watermark', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lionctr-trainer-'));
    dirs.push(dir);
    const lines = jsonLines(300, (i) => ({
      label: i % 4 === 0 ? 1 : 0,
      ts: 1_700_000_000_000 + i,
      features: { C1: String(i % 7), C2: `x${i % 3}`, I1: i % 11 },
    }));
    lines.splice(50, 0, '{not json');
    lines.splice(120, 0, JSON.stringify({ label: 2, features: {} }));
    const file = join(dir, 'clicks.jsonl');
    await writeFile(file, `${lines.join('\n')}\n`);
    await selectBackend('auto');
    const schema = { ...criteoSlots(), embeddingDim: 4 };
    const model = new CtrModel(schema, { hidden: [8], initStd: 0.01, seed: 1 });
    const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
    const step = new TrainStep(model, { dense: lp(1e-3), embedding: lp(1e-2), linear: lp(1e-2) });
    const seen: number[] = [];
    const trainer = new Trainer({
      model,
      step,
      openSource: () => createFileSource({ path: file, format: 'jsonl', schema }),
      epochs: 2,
      batchSize: 64,
      maxExamples: 0,
      metricsWindow: 1000,
      progressSeconds: 0,
      exportDir: join(dir, 'exports'),
      exportIntervalSeconds: 0,
      exportKeep: 2,
      logger: pino({ level: 'silent' }),
    });
    trainer.on('step', (e: { examples: number }) => seen.push(e.examples));
    const summary = await trainer.run();
    expect(summary.progress.examples).toBe(600);
    expect(seen.reduce((a, b) => a + b, 0)).toBe(600);
    expect(step.step).toBe(2 * Math.ceil(300 / 64));
    const latest = (await readFile(join(dir, 'exports', 'LATEST'), 'utf8')).trim();
    const manifest = JSON.parse(await readFile(join(dir, 'exports', latest, 'manifest.json'), 'utf8'));
    expect(manifest.examples).toBe(600);
    expect(manifest.source_offsets[`file:${file}/0`]).toBe(303); // 302 lines in the file, next to read = 303
    expect(manifest.event_time_watermark_ms).toBe(1_700_000_000_299);
    expect(model.tables[0].size).toBe(7); // C1 took 7 distinct values
    expect(model.tables[2].size).toBe(1); // C3 always missing: one "missing" id
  });
});
