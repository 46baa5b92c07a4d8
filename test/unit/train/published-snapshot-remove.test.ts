/**
 * The publish gate's snapshot of the served version (src/train/published-snapshot.ts) when
 * rows are removed from the trained tables (EmbeddingTable.remove: the last row moves into the
 * freed index; row eviction of the embedding-store issue will do this while training). The
 * served version does not change when the trainer removes rows: it still has every row it was
 * exported with, and none admitted since. The reference is independent of the snapshot: the
 * export written at the publish, loaded as serving loads it (loadExport + CtrModel.predict).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FeatureBatch } from '../../../src/features/feature-batch.ts';
import { createSyntheticSource } from '../../../src/ingest/synthetic-source.ts';
import type { CtrModel } from '../../../src/model/ctr-model.ts';
import { loadExport } from '../../../src/model/export-reader.ts';
import { writeExport } from '../../../src/train/export-writer.ts';
import { PublishedSnapshot } from '../../../src/train/published-snapshot.ts';
import { mulberry32 } from '../../helpers/prng.ts';
import { tinyTrainedModel } from '../../helpers/tiny-model.ts';

const meta = { step: 1, examples: 1, sourceOffsets: {}, watermarkMs: null, metrics: {} };
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The featurized batches of `n` synthetic examples of `seed`. */
async function batches(featurize: (rb: never) => FeatureBatch, seed: number, n: number, size: number) {
  const out: FeatureBatch[] = [];
  for await (const rb of createSyntheticSource({ seed, limit: n }).batches({ batchSize: size }))
    out.push(featurize(rb as never));
  return out;
}

/** What each removal was, against the served model (same ids, values as exported). */
interface Tally {
  publishedChanged: number;
  publishedUnchanged: number;
  admittedSince: number;
  /** Removals whose moved row (admitted since the publish) landed below the rows at the publish. */
  admittedMovedLow: number;
  /** Removals of a table's last row below the rows at the publish (none moves; the index is freed). */
  lastLow: number;
}

/**
 * Removes about `share` of the rows of every table of `model` (ids picked by `rnd`; always
 * row 0 first), classifying each against `served`.
 */
function removeSome(model: CtrModel, served: CtrModel, atPublish: number[], share: number, rnd: () => number) {
  const tally: Tally = {
    publishedChanged: 0,
    publishedUnchanged: 0,
    admittedSince: 0,
    admittedMovedLow: 0,
    lastLow: 0,
  };
  model.tables.forEach((t, f) => {
    const picked: [number, number][] = [];
    for (let r = 0; r < t.size; r++) if (r === 0 || rnd() < share) picked.push([t.idHi(r), t.idLo(r)]);
    const s = served.tables[f],
      W = t.width;
    for (const [hi, lo] of picked) {
      const r = t.find(hi, lo),
        sr = s.find(hi, lo);
      if (sr < 0) tally.admittedSince++;
      else {
        const now = t.rows.data.subarray(t.rows.weightsAt(r), t.rows.weightsAt(r) + W);
        const was = s.rows.data.subarray(s.rows.weightsAt(sr), s.rows.weightsAt(sr) + W);
        if (now.every((v, j) => v === was[j])) tally.publishedUnchanged++;
        else tally.publishedChanged++;
      }
      const last = t.size - 1;
      if (last !== r && r < atPublish[f] && s.find(t.idHi(last), t.idLo(last)) < 0) tally.admittedMovedLow++;
      if (last === r && r < atPublish[f]) tally.lastLow++;
      expect(t.remove(hi, lo)).toBe(true);
    }
  });
  return tally;
}

describe('PublishedSnapshot and EmbeddingTable.remove', () => {
  it('predicts what the export at the publish predicts after rows are removed, moved and re-admitted', async () => {
    const t = await tinyTrainedModel(4, 256);
    const featurize = (rb: never) => t.featurizer.fromRecordBatch(rb);
    const snap = new PublishedSnapshot(t.model, t.step);
    const dir = await mkdtemp(join(tmpdir(), 'lionctr-snapshot-remove-'));
    dirs.push(dir);
    const { dir: vdir } = await writeExport(dir, t.model, meta);
    snap.capture();
    const atPublish = t.model.tables.map((x) => x.size);
    const served = (await loadExport(vdir)).model;
    const rnd = mulberry32(11);

    // trained since: published rows saved copy-on-write, rows admitted the publish never saw
    for (const b of await batches(featurize, 2, 6 * 256, 256)) t.step.run(b);
    const first = removeSome(t.model, served, atPublish, 0.3, rnd);
    // more training after the removals: removed ids come back as new rows, moved rows are updated
    for (const b of await batches(featurize, 3, 4 * 256, 256)) t.step.run(b);
    const second = removeSome(t.model, served, atPublish, 0.2, rnd);
    for (const b of await batches(featurize, 1, 2 * 256, 256)) t.step.run(b);

    const probe = [1, 2, 3, 5].map((seed) => batches(featurize, seed, 512, 512));
    let removedHits = 0;
    for (const b of (await Promise.all(probe)).flat()) {
      expect(snap.predict(b)).toEqual(served.predict(b)); // bit for bit: the same rows, tower and ops
      for (let k = 0; k < b.idHi.length; k++) {
        const f = k % t.model.slots.length;
        if (served.tables[f].find(b.idHi[k], b.idLo[k]) >= 0 && t.model.tables[f].find(b.idHi[k], b.idLo[k]) < 0)
          removedHits++;
      }
    }
    // the test means something: every kind of removal happened, and the probes read removed rows
    for (const tally of [first, second]) {
      expect(tally.publishedChanged).toBeGreaterThan(0);
      expect(tally.publishedUnchanged).toBeGreaterThan(0);
      expect(tally.admittedSince).toBeGreaterThan(0);
      expect(tally.admittedMovedLow).toBeGreaterThan(0);
    }
    expect(first.lastLow + second.lastLow).toBeGreaterThan(0);
    expect(removedHits).toBeGreaterThan(100);
    expect(snap.bytes).toBeGreaterThan(0);
    snap.detach();
    expect(t.model.tables.every((x) => x.removeListeners.length === 0)).toBe(true);
    served.dispose();
  });
});
