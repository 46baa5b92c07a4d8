/**
 * The progressive-validation keys end to end (issue 15): a trainer made from the configuration
 * (src/cli/train-session.ts) on the synthetic stream, with train.progressive.window,
 * sliceSlots and maxSlices set by `--set`, publishes the window and lifetime figures and the
 * slices of each sliced slot, at most maxSlices + `other` per slot and scope; the deprecated
 * train.metricsWindow still sets the window; a slot that cannot be sliced stops start-up with
 * LIONCTR_BAD_CONFIG naming the key.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createTrainer } from '../../src/cli/train-session.ts';
import { loadConfig } from '../../src/config/schema.ts';
import { createMetrics } from '../../src/metrics/catalogue.ts';

const silent = pino({ level: 'silent' });
const base = [
  'source.kind="synthetic"',
  'train.batchSize=512',
  'train.maxExamples=6144',
  'model.hidden=[16]',
  'schema.embeddingDim=4',
  'train.progressSeconds=0',
  'checkpoint.enabled=false',
];

describe('train.progressive.* configure the progressive figures', () => {
  it('window, sliced slots and the cap reach /metrics', async () => {
    const cfg = loadConfig(
      [],
      [...base, 'train.progressive.window=2048', 'train.progressive.sliceSlots=C6,C9', 'train.progressive.maxSlices=3'],
    );
    const metrics = createMetrics();
    const trainer = await createTrainer(cfg, silent, { exportDir: null, metrics });
    const summary = await trainer.run();
    expect(summary.progress.window).toBe(2048);
    expect(summary.progress.lifetime.examples).toBe(6144);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^lionctr_progressive_examples\{scope="window"\} 2048$/m);
    expect(text).toMatch(/^lionctr_progressive_examples\{scope="lifetime"\} 6144$/m);
    expect(text).toMatch(/^lionctr_progressive_auc\{scope="lifetime"\} 0\.\d+$/m);
    for (const slot of ['C6', 'C9']) {
      for (const scope of ['window', 'lifetime']) {
        const re = new RegExp(
          `^lionctr_progressive_slice_examples\\{scope="${scope}",slot="${slot}",slice="(.*)"\\} (\\d+)$`,
          'gm',
        );
        const got = [...text.matchAll(re)];
        expect(got.length, `${slot} ${scope}`).toBeGreaterThan(1);
        expect(got.length).toBeLessThanOrEqual(4);
        expect(got.reduce((s, m) => s + Number(m[2]), 0)).toBe(scope === 'window' ? 2048 : 6144);
      }
    }
  });

  it('the deprecated train.metricsWindow still sets the window; a numeric slot is refused', async () => {
    const cfg = loadConfig([], [...base, 'train.metricsWindow=1000']);
    const summary = await (await createTrainer(cfg, silent, { exportDir: null })).run();
    expect(summary.progress.window).toBe(1000);
    const bad = loadConfig([], [...base, 'train.progressive.sliceSlots=I1']);
    await expect(createTrainer(bad, silent, { exportDir: null })).rejects.toMatchObject({
      code: 'LIONCTR_BAD_CONFIG',
      message: expect.stringContaining('train.progressive.sliceSlots'),
    });
  });
});
