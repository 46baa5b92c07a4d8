/**
 * Freshness end to end, in process: a trainer built from the config as `lionctr run` builds it
 * (synthetic source, its default `source.synthetic.eventTime` = wallclock) reads event -> trained
 * and event -> exported lags of seconds, not the ~days since the simulated stream's 2026-01-01;
 * a model registry that loads its export reads event -> served from the manifest's watermark.
 * With `simulated` event times the stream stays the deterministic one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createTrainer } from '../../src/cli/train-session.ts';
import { openConfiguredSource, featureSchemaOf } from '../../src/cli/common.ts';
import { loadConfig } from '../../src/config/schema.ts';
import { SYNTHETIC_START_MS } from '../../src/ingest/synthetic-source.ts';
import { createMetrics } from '../../src/metrics/catalogue.ts';
import { observeRegistry } from '../../src/metrics/serve-observer.ts';
import { ModelRegistry } from '../../src/serve/model-registry.ts';

const silent = pino({ level: 'silent' });
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const sample = (text: string, name: string) => {
  const m = text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : undefined;
};
const small = [
  'source.limit=2048',
  'train.batchSize=256',
  'model.hidden=[8]',
  'schema.embeddingDim=4',
  'train.progressSeconds=0',
  'export.intervalSeconds=0',
  'checkpoint.enabled=false',
];

describe('freshness: event -> trained -> exported -> served', () => {
  it('a run from the default config reads lags of seconds at every stage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lionctr-fresh-'));
    dirs.push(dir);
    const cfg = loadConfig([], small);
    expect(cfg.source.synthetic.eventTime).toBe('wallclock');
    const metrics = createMetrics();
    const t = await createTrainer(cfg, silent, { exportDir: dir, metrics });
    await t.run();
    const text = await metrics.registry.metrics();
    for (const name of ['lionctr_train_event_time_lag_seconds', 'lionctr_export_event_time_lag_seconds']) {
      const lag = sample(text, name);
      expect(lag, name).toBeGreaterThanOrEqual(0);
      expect(lag, name).toBeLessThan(60);
    }
    const published = sample(text, 'lionctr_export_train_to_publish_seconds_count');
    expect(published).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'lionctr_export_train_to_publish_seconds_sum')! / published!).toBeLessThan(60);

    const registry = new ModelRegistry(dir, silent, 0, { keepVersions: 1 });
    observeRegistry(registry, metrics);
    expect(sample(await metrics.registry.metrics(), 'lionctr_serve_event_time_lag_seconds')).toBeUndefined();
    await registry.check();
    expect(registry.current()).toBeDefined();
    const served = sample(await metrics.registry.metrics(), 'lionctr_serve_event_time_lag_seconds');
    expect(served).toBeGreaterThanOrEqual(0);
    expect(served).toBeLessThan(60);
    registry.stop();
  }, 60_000);

  it('source.synthetic.eventTime=simulated keeps the deterministic event times', async () => {
    const cfg = loadConfig([], [...small, 'source.synthetic.eventTime="simulated"']);
    const src = openConfiguredSource(cfg, featureSchemaOf(cfg));
    for await (const b of src.batches({ batchSize: 16 })) {
      expect(Number(b.getChild('event_time_ms')!.get(3))).toBe(SYNTHETIC_START_MS + 30);
      break;
    }
    const wall = openConfiguredSource(loadConfig([], small), featureSchemaOf(cfg));
    const t0 = Date.now();
    for await (const b of wall.batches({ batchSize: 16 })) {
      const t = Number(b.getChild('event_time_ms')!.get(3));
      expect(t).toBeGreaterThanOrEqual(t0);
      expect(t).toBeLessThanOrEqual(Date.now());
      break;
    }
  });
});
