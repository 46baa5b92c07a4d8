/**
 * The serving soak, short (issue 11, "What it must show"; bench/serve-soak.ts runs it for 10
 * minutes): `lionctr serve` as a child process under autocannon load (10 connections, 16
 * instances per request) for 20 s (until 12 s after warm-up, on a loaded machine) while a
 * new version (about 70,000 rows, 8 MB loaded) is published every second. No request fails,
 * every response names a version that was published, versions are swapped under load, no
 * version fails to load, and the server's RSS grows by less than 15% from just after the
 * warm-up (6 s and 3 versions served) to the end: a loose bound for a loaded 2-core machine,
 * where a leak of the old version at each swap would add over 100 MB.
 *
 * The same in a form that timing cannot blur: an in-process ModelRegistry swapped 12 times,
 * where after a forced GC only the `keepVersions` newest versions' rows are still reachable
 * (WeakRef; fails when anything keeps a dropped version, e.g. a list of old models).
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../src/serve/model-registry.ts';
import { writeExport } from '../../src/train/export-writer.ts';
import { useFixture } from '../helpers/fixture.ts';
import { serveSoak } from '../helpers/serve-soak.ts';
import { tinyTrainedModel } from '../helpers/tiny-model.ts';

describe('lionctr serve under load while versions are published', () => {
  it('20 s (more when loaded), 10 connections, a version a second: 0 failures, named versions, flat RSS', async () => {
    const r = await serveSoak({ seconds: 20, measuredSeconds: 12, publishSeconds: 1, warmupSeconds: 6, steps: 40 });
    const figures =
      `${r.requests} requests, ${r.published} published, ${r.versionsSeen} seen; ` +
      `rss ${r.rssWarmMb.toFixed(1)} -> ${r.rssEndMb.toFixed(1)} MB (${r.growthPct.toFixed(1)}%) ` +
      `from ${r.warmupEndSeconds} s, max ${r.rssMaxMb.toFixed(1)}; ` +
      `every second: ${r.rssMb.map((x) => x.toFixed(0)).join(' ')}`;
    console.log(figures);
    expect(r.requests).toBeGreaterThan(100);
    expect({ non2xx: r.non2xx, errors: r.errors, unnamed: r.unnamed, unknownVersion: r.unknownVersion }).toEqual({
      non2xx: 0,
      errors: 0,
      unnamed: 0,
      unknownVersion: 0,
    });
    expect(r.versionsSeen, figures).toBeGreaterThanOrEqual(3);
    expect(r.serverLog, 'server warnings/errors').not.toMatch(/failed to load/);
    expect(r.rssMb.length - r.warmupEndSeconds, `RSS measured after warm-up; ${figures}`).toBeGreaterThanOrEqual(12);
    expect(r.growthPct, figures).toBeLessThan(15);
  }, 180_000);
});

describe('a dropped version is freed', () => {
  const fx = useFixture();

  it('after 12 swaps only the keepVersions newest versions are reachable', async () => {
    const root = fx.tempDir('serve-reach');
    const { model } = await tinyTrainedModel(10);
    const registry = new ModelRegistry(root, pino({ level: 'silent' }), 0, { keepVersions: 2 });
    // a full GC from inside the test (as test/helpers/soak.ts does)
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const collect = async () => {
      await new Promise((r) => setImmediate(r)); // WeakRefs are kept until the current job ends
      gc();
    };
    const refs: { version: string; ref: WeakRef<object> }[] = [];
    const external: number[] = [];
    let bytes = 0;
    try {
      for (let n = 1; n <= 12; n++) {
        model.tables[0].rows.data[1] += 1e-4;
        const meta = { step: n, examples: n, sourceOffsets: {}, watermarkMs: null, metrics: {} };
        const { version, bytes: b } = await writeExport(root, model, meta, 20);
        bytes = b;
        await registry.check();
        expect(registry.current()?.version).toBe(version);
        refs.push({ version, ref: new WeakRef(registry.current()!.model.tables[0].rows.data.buffer) });
        await collect();
        external.push(process.memoryUsage().arrayBuffers);
      }
      await collect();
      const alive = refs.filter((r) => r.ref.deref() !== undefined).map((r) => r.version);
      // the two newest stay loaded (keepVersions 2); every older one must be collectable
      expect(alive).toEqual(refs.slice(-2).map((r) => r.version));
      const mb = (x: number) => (x / 2 ** 20).toFixed(1);
      console.log(
        `version ${mb(bytes)} MB; arrayBuffers after each swap (MB, after GC): ${external.map(mb).join(' ')}`,
      );
    } finally {
      registry.stop();
      model.dispose();
    }
  });
});
