/**
 * The publish gate scores the served version without a second copy of the model
 * (src/train/published-snapshot.ts): after a publish, the trained model overlaid with the
 * rows saved copy-on-write (and the tower copied at the publish) must predict exactly what
 * serving predicts from the export written at that publish, however much is trained since:
 * rows changed, rows admitted after the publish (unknown to the served version), the tower
 * moved. The reference is independent of the overlay: the export on disk, loaded as serving
 * loads it (loadExport + CtrModel.predict).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FeatureBatch } from '../../../src/features/feature-batch.ts';
import { createSyntheticSource } from '../../../src/ingest/synthetic-source.ts';
import { loadExport } from '../../../src/model/export-reader.ts';
import { writeExport } from '../../../src/train/export-writer.ts';
import { PublishedSnapshot } from '../../../src/train/published-snapshot.ts';
import { tinyTrainedModel } from '../../helpers/tiny-model.ts';

const meta = { step: 1, examples: 1, sourceOffsets: {}, watermarkMs: null, metrics: {} };
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The batches of `n` synthetic examples of `seed` (the synthetic ids overlap across seeds in part). */
async function batches(
  featurize: (rb: never) => FeatureBatch,
  seed: number,
  n: number,
  size: number,
): Promise<FeatureBatch[]> {
  const out: FeatureBatch[] = [];
  for await (const rb of createSyntheticSource({ seed, limit: n }).batches({ batchSize: size }))
    out.push(featurize(rb as never));
  return out;
}

describe('PublishedSnapshot', () => {
  it('predicts exactly what the export written at the publish predicts, after more training', async () => {
    const t = await tinyTrainedModel(4, 256);
    const featurize = (rb: never) => t.featurizer.fromRecordBatch(rb);
    const snap = new PublishedSnapshot(t.model, t.step);
    expect(snap.published).toBe(false);
    const dir = await mkdtemp(join(tmpdir(), 'lionctr-snapshot-'));
    dirs.push(dir);
    // the publish: the export on disk and the snapshot's capture of the same model
    const { dir: vdir } = await writeExport(dir, t.model, meta);
    snap.capture();
    const rowsAtPublish = t.model.tables.map((x) => x.size);
    const served = (await loadExport(vdir)).model;

    // more training: other seeds bring rows the published version never saw
    for (const b of await batches(featurize, 2, 6 * 256, 256)) t.step.run(b);
    expect(snap.rowsSaved).toBeGreaterThan(0);
    expect(t.model.tables.some((x, f) => x.size > rowsAtPublish[f])).toBe(true);

    const probe = [
      ...(await batches(featurize, 1, 512, 512)),
      ...(await batches(featurize, 2, 512, 512)),
      ...(await batches(featurize, 3, 512, 512)),
    ];
    let changed = 0,
      admittedSince = 0;
    for (const b of probe) {
      const want = served.predict(b);
      expect(snap.predict(b)).toEqual(want); // bit for bit: the same rows, tower and ops
      const now = t.model.predict(b);
      for (let i = 0; i < b.size; i++) if (now[i] !== want[i]) changed++;
      for (let k = 0; k < b.idHi.length; k++) {
        const f = k % t.model.slots.length;
        if (t.model.tables[f].find(b.idHi[k], b.idLo[k]) >= rowsAtPublish[f]) admittedSince++;
      }
    }
    // the test means something: the model moved, and probes hit rows admitted after the publish
    expect(changed).toBeGreaterThan(1000);
    expect(admittedSince).toBeGreaterThan(0);
    served.dispose();
  });

  it('a new capture forgets the saved rows; bytes count values, index and tower; detach stops listening', async () => {
    const t = await tinyTrainedModel(2, 256);
    const featurize = (rb: never) => t.featurizer.fromRecordBatch(rb);
    const snap = new PublishedSnapshot(t.model, t.step);
    snap.capture();
    const towerBytes = t.model.tower.vars.reduce((a, v) => a + v.size * 4, 0);
    const before = snap.bytes;
    expect(before).toBeGreaterThanOrEqual(towerBytes);
    const train = await batches(featurize, 4, 2 * 256, 256);
    t.step.run(train[0]);
    const saved = snap.rowsSaved;
    expect(saved).toBeGreaterThan(0);
    // each saved row: W floats in the pool (grown by doubling) and an index entry
    expect(snap.bytes - before).toBeGreaterThanOrEqual(saved * t.model.tables[0].width * 4);
    snap.capture();
    expect(snap.rowsSaved).toBe(0);
    snap.detach();
    expect(t.step.rowListeners).toEqual([]);
    t.step.run(train[1]);
    expect(snap.rowsSaved).toBe(0);
  });
});
