/**
 * The diverged-run test of issue 11, on real files: a good run writes a checkpoint and an
 * export; the run resumed from it with every learning rate at 1e38 blows the model up on its
 * first step. Wanted: each non-finite step detected, logged and counted
 * (`lionctr_train_nonfinite_steps_total`), the run stopped with LIONCTR_DIVERGED after
 * `train.maxNonfiniteSteps` in a row, nothing of the diverged state written (LATEST of the
 * exports and of the checkpoints unchanged, no new version or temp directory, every export on
 * disk loadable), even though exports and checkpoints were due after every batch; and the
 * prediction endpoint over that exports root serves the good version, answering numbers
 * (never `null`) over real HTTP.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createTrainer } from '../../src/cli/train-session.ts';
import { loadConfig } from '../../src/config/schema.ts';
import { createMetrics } from '../../src/metrics/catalogue.ts';
import { loadExport } from '../../src/model/export-reader.ts';
import { createHttpServer } from '../../src/serve/http-server.ts';
import { ModelRegistry } from '../../src/serve/model-registry.ts';
import { sampleInstances } from '../helpers/tiny-model.ts';

const root = mkdtempSync(join(tmpdir(), 'lionctr-diverged-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const silent = pino({ level: 'silent' });
const exportDir = join(root, 'exports');
const ckptDir = join(exportDir, 'checkpoints');

const base = [
  'source.kind="synthetic"',
  'train.batchSize=256',
  'model.hidden=[16]',
  'schema.embeddingDim=4',
  'train.progressSeconds=0',
];
const lr1e38 = ['dense', 'embedding', 'linear', 'bias'].map((g) => `optim.${g}.lr=1e38`);

/** The trainer's log lines at warn and above. */
function warnings() {
  const lines: { msg: string; step?: number; nonFinite?: string }[] = [];
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  );
  return { logger, lines };
}

describe('a diverged run (every lr 1e38)', () => {
  it('is detected, counted, logged and stopped; nothing of it is written; serving keeps the good version', async () => {
    const good = loadConfig([], [...base, 'train.maxExamples=1024']);
    const s1 = await (await createTrainer(good, silent, { exportDir })).run();
    expect(s1.exports.length).toBeGreaterThan(0);
    const latest = readFileSync(join(exportDir, 'LATEST'), 'utf8');
    const ckptLatest = readFileSync(join(ckptDir, 'LATEST'), 'utf8');
    const exportsBefore = readdirSync(exportDir).sort();
    const ckptsBefore = readdirSync(ckptDir).sort();

    const bad = loadConfig(
      [],
      [
        ...base,
        ...lr1e38,
        'train.maxExamples=5120', // 20 batches: without the guard the run ends, exported
        'train.maxNonfiniteSteps=4',
        'train.progressSeconds=0.001', // figures after every batch: a stale logloss would show
        // due after every batch: the guard, not the cadence, keeps the diverged state out
        'export.intervalSeconds=0.001',
        'checkpoint.intervalSeconds=0.001',
      ],
    );
    const metrics = createMetrics();
    const { logger, lines } = warnings();
    const trainer = await createTrainer(bad, logger, { exportDir, metrics });
    let steps = 0;
    trainer.on('step', () => steps++);
    await expect(trainer.run()).rejects.toMatchObject({
      code: 'LIONCTR_DIVERGED',
      message: expect.stringMatching(/^training diverged: 4 steps in a row had a non-finite loss or gradient/),
    });
    // the first step (loss still finite) blows the model up, the next 4 are skipped
    expect(steps).toBe(5);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^lionctr_train_nonfinite_steps_total 4$/m);
    expect(text).toMatch(/^lionctr_train_steps_total 5$/m);
    // no scope of the progressive figures (window, lifetime) shows a number over NaN predictions
    for (const g of ['lionctr_progressive_logloss', 'lionctr_progressive_auc', 'lionctr_train_batch_logloss'])
      expect(text, g).not.toMatch(new RegExp(`^${g}[ {]`, 'm'));
    expect(text).toMatch(/^lionctr_progressive_examples\{scope="lifetime"\} [1-9]\d*$/m);
    const skipped = lines.filter((l) => /skipped the update/.test(l.msg));
    expect(skipped.length).toBe(4);
    expect(skipped[0]).toMatchObject({ step: s1.progress.step + 1, nonFinite: expect.stringMatching(/^loss NaN/) });
    expect(lines.some((l) => /^not writing an export at step \d+ now: the model gives non-finite/.test(l.msg))).toBe(
      true,
    );

    expect(readFileSync(join(exportDir, 'LATEST'), 'utf8')).toBe(latest);
    expect(readdirSync(exportDir).sort()).toEqual(exportsBefore);
    expect(readFileSync(join(ckptDir, 'LATEST'), 'utf8')).toBe(ckptLatest);
    expect(readdirSync(ckptDir).sort()).toEqual(ckptsBefore);
    for (const v of exportsBefore.filter((n) => /^\d+$/.test(n)))
      (await loadExport(join(exportDir, v))).model.dispose();

    const registry = new ModelRegistry(exportDir, silent, 0);
    await registry.check();
    expect(registry.current()?.version).toBe(latest.trim());
    const app = createHttpServer({ registry, metrics: createMetrics(), modelName: 'ctr' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const { port } = app.server.address() as { port: number };
      const schema = registry.current()!.manifest.schema;
      for (const n of [1, 16, 200]) {
        const r = await fetch(`http://127.0.0.1:${port}/v1/models/ctr:predict`, {
          method: 'POST',
          body: JSON.stringify({ instances: sampleInstances(n, schema) }),
        });
        const body = (await r.json()) as { predictions: unknown[] };
        expect(r.status).toBe(200);
        expect(r.headers.get('x-lionctr-model-version')).toBe(latest.trim());
        expect(body.predictions.length).toBe(n);
        for (const p of body.predictions) expect(typeof p === 'number' && p > 0 && p < 1, String(p)).toBe(true);
      }
    } finally {
      await app.close();
      registry.current()?.model.dispose();
    }
    expect(existsSync(join(ckptDir, 'LOCK'))).toBe(false); // the trainer released its checkpoint directory
  }, 60_000);
});
