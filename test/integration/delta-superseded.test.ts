/**
 * A full export pruned by its writer while serving reads one of its deltas (issue 11 "Delta
 * exports"): the trainer's writeExport (keep 1, no pruning grace) publishes a newer full export
 * and prunes the base (renamed away, then deleted) in the middle of the registry's read of delta-1. That is not a bad
 * delta: serving logs it at info (no error, no `deltaFailed`, no failure counted), counts it in
 * lionctr_serve_deltas_superseded_total, and serves the new full export at its next check.
 *
 * The moment is made exact by wrapping node:fs/promises' readFile (the registry's and the
 * writer's modules see the wrapper): the first read of `<base>/delta-1/manifest.json` runs the
 * real writer first, then the real read. Everything else is real: files, writer, registry.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createServeMetrics } from '../../src/metrics/catalogue.ts';
import { observeRegistry } from '../../src/metrics/serve-observer.ts';
import { ModelRegistry } from '../../src/serve/model-registry.ts';
import { writeDelta } from '../../src/train/delta-writer.ts';
import { writeExport } from '../../src/train/export-writer.ts';
import { tinyTrainedModel } from '../helpers/tiny-model.ts';

/** Runs once, before the read of the path it names ends in (set by the test). */
const hook = vi.hoisted(() => ({ suffix: '', before: null as null | (() => Promise<void>) }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const readFile = (async (path: Parameters<typeof real.readFile>[0], ...rest: unknown[]) => {
    const run = hook.before;
    if (run && hook.suffix && String(path).endsWith(hook.suffix)) {
      hook.before = null;
      await run();
    }
    return (real.readFile as (...a: unknown[]) => unknown)(path, ...rest);
  }) as typeof real.readFile;
  return { ...real, default: { ...real, readFile }, readFile };
});

const meta = (step: number) => ({ step, examples: step, sourceOffsets: {}, watermarkMs: null, metrics: {} });

describe('a delta whose base is pruned while serving reads it', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is superseded (info log, counted), not a refused delta; the newer full export is served', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lionctr-delta-superseded-'));
    const trained = await tinyTrainedModel(1, 256);
    const logged: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void logged.push(JSON.parse(s)) });
    const registry = new ModelRegistry(dir, logger, 0, { keepVersions: 1 });
    const metrics = createServeMetrics();
    observeRegistry(registry, metrics);
    const failed: string[] = [],
      superseded: { base: string; seq: number }[] = [];
    registry.on('deltaFailed', (e) => failed.push(`${e.reason}: ${e.message}`));
    registry.on('loadFailed', (e) => failed.push(`load ${e.version}: ${e.message}`));
    registry.on('deltaSuperseded', (e) => superseded.push(e));
    try {
      const base = await writeExport(dir, trained.model, meta(1));
      await registry.check();
      expect(registry.current()?.version).toBe(base.version);
      const rows = trained.model.tables.map((t) => Int32Array.from({ length: Math.min(t.size, 5) }, (_, i) => i));
      const manifestBytes = await readFile(join(base.dir, 'manifest.json'));
      const prev = { baseVersion: base.version, nextSeq: 1, version: base.version, manifestBytes };
      await writeDelta(base.dir, prev, trained.model, rows, meta(2));

      // the trainer publishes a newer full export and prunes the base while serving reads delta-1
      let newer = '';
      hook.suffix = join(base.version, 'delta-1', 'manifest.json');
      hook.before = async () => {
        newer = (await writeExport(dir, trained.model, meta(3), { keep: 1, graceMs: 0 })).version;
      };
      await registry.check();
      expect(hook.before).toBeNull(); // the read did happen, after the prune
      expect(newer).not.toBe('');
      expect(failed).toEqual([]);
      expect(superseded).toEqual([{ base: base.version, seq: 1 }]);
      expect(logged.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual([]);
      expect(logged.some((l) => l.level === 30 && l.msg.includes('superseded'))).toBe(true);
      const text = await metrics.registry.metrics();
      expect(text).toMatch(/lionctr_serve_deltas_superseded_total 1\n/);
      expect(text).not.toMatch(/lionctr_serve_delta_failures_total\{reason="\w+"\} [1-9]/);

      await registry.check();
      expect(registry.current()?.version).toBe(newer);
      expect(failed).toEqual([]);
    } finally {
      registry.stop();
      trained.model.dispose();
    }
  });
});
