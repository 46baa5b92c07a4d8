/**
 * Serving learns of a new delta or full export from fs.watch (src/serve/delta-watch.ts), not only
 * from its poll: a registry started with no poll at all (pollSeconds 0) serves each delta the
 * trainer's writeDelta renames into place, and the next full export, within a second; with
 * `watch: false` it does not (the poll is the only other way).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { DeltaPredecessor } from '../../src/model/delta-format.ts';
import { ModelRegistry } from '../../src/serve/model-registry.ts';
import { writeDelta } from '../../src/train/delta-writer.ts';
import { writeExport } from '../../src/train/export-writer.ts';
import { useFixture } from '../helpers/fixture.ts';
import { tinyTrainedModel } from '../helpers/tiny-model.ts';

const fx = useFixture();
const meta = (step: number) => ({ step, examples: step, sourceOffsets: {}, watermarkMs: null, metrics: {} });

/** Ms until `registry` serves `version`, or null after `ms`. */
async function servedWithin(registry: ModelRegistry, version: string, ms: number): Promise<number | null> {
  const t0 = performance.now();
  while (registry.current()?.version !== version) {
    if (performance.now() - t0 > ms) return null;
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - t0;
}

describe('serving watches the exports root and the served export for new entries', () => {
  it.each([true, false])(
    'watch %s, no poll: deltas and a new full export served at once (only when watching)',
    async (watch) => {
      const root = fx.tempDir('delta-watch');
      const trained = await tinyTrainedModel(1, 128);
      const registry = new ModelRegistry(root, pino({ level: 'silent' }), 0, { keepVersions: 1, watch });
      try {
        const base = await writeExport(root, trained.model, meta(1));
        registry.start(); // the first check runs at start
        expect(await servedWithin(registry, base.version, 5000)).not.toBeNull();
        let prev: DeltaPredecessor = {
          baseVersion: base.version,
          nextSeq: 1,
          version: base.version,
          manifestBytes: await readFile(join(base.dir, 'manifest.json')),
        };
        const rows = trained.model.tables.map((t) => Int32Array.from({ length: Math.min(3, t.size) }, (_, i) => i));
        const lags: (number | null)[] = [];
        for (let k = 0; k < 3; k++) {
          trained.model.tables[0].rows.data[0] += 0.01;
          const d = await writeDelta(base.dir, prev, trained.model, rows, meta(2 + k));
          prev = d.next;
          lags.push(await servedWithin(registry, d.manifest.version, watch ? 1000 : 1500));
          if (!watch) break;
        }
        const next = await writeExport(root, trained.model, meta(9));
        lags.push(await servedWithin(registry, next.version, watch ? 1000 : 1500));
        if (watch) for (const l of lags) expect(l).not.toBeNull();
        else expect(lags).toEqual([null, null]);
      } finally {
        registry.stop();
        trained.model.dispose();
      }
    },
  );
});
