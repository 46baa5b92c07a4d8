import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ServeEvents } from '../../../src/events/serve-events.ts';
import type { CtrModel } from '../../../src/model/ctr-model.ts';
import { configureServingTower } from '../../../src/model/serving-tower.ts';
import { ModelRegistry, type VersionPolicy } from '../../../src/serve/model-registry.ts';
import { PREDICT_CHUNK, scoreRows } from '../../../src/serve/scoring.ts';
import { writeExport } from '../../../src/train/export-writer.ts';
import { type DeltaContent, diffModels, writeDeltaFiles } from '../../helpers/delta-files.ts';
import { sampleInstances, tinyTrainedModel } from '../../helpers/tiny-model.ts';

const silent = pino({ level: process.env.DBG ? 'debug' : 'silent' });
const meta = (step: number) => ({ step, examples: step, sourceOffsets: {}, watermarkMs: null, metrics: {} });
const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'lionctr-delta-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A served base export, the trainer's model that goes on training, and the registry's delta events. */
async function fixture(policy: VersionPolicy = {}) {
  const dir = await tmp();
  const trained = await tinyTrainedModel(1, 256);
  const base = (await writeExport(dir, trained.model, meta(2))).version;
  const registry = new ModelRegistry(dir, silent, 0, { keepVersions: 1, ...policy });
  const applied: ServeEvents['deltaApplied'][] = [];
  const failed: ServeEvents['deltaFailed'][] = [];
  registry.on('deltaApplied', (e) => applied.push(e));
  registry.on('deltaFailed', (e) => failed.push(e));
  await registry.check();
  const instances = sampleInstances(40, trained.schema);
  const batch = trained.featurizer.fromInstances(instances);
  const scores = (m: CtrModel) => Array.from(m.predict(batch));
  /** Scores as the endpoint computes them (CtrModel.score: the serving tower, ONNX or tfjs). */
  const servedScores = async (m: CtrModel) => Array.from(await m.score(batch));
  let before = { tables: trained.model.tables.map((t) => t.clone()) };
  /**
   * Trains on the instances and removes the rows of instance `k`'s ids (tombstones); returns
   * what a delta since the previous call holds, and the trainer's scores now (the reference).
   */
  const advance = (k: number): { content: DeltaContent; reference: number[] } => {
    trained.step.run(trained.featurizer.fromInstances(instances));
    const F = trained.model.tables.length;
    for (let f = 0; f < F; f++) trained.model.tables[f].remove(batch.idHi[k * F + f], batch.idLo[k * F + f]);
    const content = diffModels(before, trained.model);
    before = { tables: trained.model.tables.map((t) => t.clone()) };
    return { content, reference: scores(trained.model) };
  };
  const served = () => registry.current()?.model as CtrModel;
  return { dir, base, registry, trained, applied, failed, advance, scores, servedScores, served };
}

/** Largest |a_i - b_i|. */
const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

describe('serving applies delta exports', () => {
  it.each(['onnx', 'tfjs'] as const)("delta-1, delta-2 in order (%s tower): scores as the trainer's", async (kind) => {
    configureServingTower({ kind });
    const fx = await fixture();
    configureServingTower({ kind: 'auto' });
    expect(fx.served().servingTower?.kind).toBe(kind);
    const s0 = fx.scores(fx.served());
    const d1 = fx.advance(0);
    expect(d1.content.tombstones.C1.n).toBe(1);
    const w1 = await writeDeltaFiles(fx.dir, fx.base, 1, d1.content, {
      step: 7,
      created_at: '2030-01-01T00:00:00.000Z',
    });
    const d2 = fx.advance(1); // re-admits instance 0's rows (inserts), removes instance 1's
    const w2 = await writeDeltaFiles(fx.dir, fx.base, 2, d2.content, { step: 9 });
    const tensors = tf.memory().numTensors;
    await fx.registry.check();
    expect(tf.memory().numTensors).toBe(tensors); // the tower's variables were reassigned, nothing left over

    expect(fx.applied.map((e) => [e.seq, e.version, e.inPlace])).toEqual([
      [1, w1.version, true],
      [2, w2.version, true],
    ]);
    expect(fx.applied[0].rows).toBe(
      d1.content.rows.C1.n +
        Object.values(d1.content.rows)
          .slice(1)
          .reduce((a, r) => a + r.n, 0),
    );
    const cur = fx.registry.current();
    expect(cur?.version).toBe(w2.version);
    expect(cur).toMatchObject({ base: fx.base, deltaSeq: 2 });
    expect(cur?.manifest).toMatchObject({ version: w2.version, step: 9, created_at: w2.manifest.created_at });
    const s2 = fx.scores(fx.served());
    // same weights and rows as the reference: equal to float32 rounding of the same ops
    expect(maxDiff(s2, d2.reference)).toBeLessThan(1e-7);
    expect(maxDiff(s2, s0)).toBeGreaterThan(1e-4);
    // the endpoint's path: the serving tower holds the delta's dense weights (an ONNX session of its own)
    expect(maxDiff(await fx.servedScores(fx.served()), d2.reference)).toBeLessThan(1e-6);
    expect(fx.served().rowCounts()).toEqual(fx.trained.model.rowCounts());
    expect(fx.registry.loaded().map((m) => m.version)).toEqual([w2.version]);
    fx.registry.stop();
  });

  it('starts from a base with deltas on disk: serves the last one', async () => {
    const fx = await fixture();
    const d1 = fx.advance(0);
    await writeDeltaFiles(fx.dir, fx.base, 1, d1.content);
    const d2 = fx.advance(1);
    const w2 = await writeDeltaFiles(fx.dir, fx.base, 2, d2.content);
    fx.registry.stop();
    const r = new ModelRegistry(fx.dir, silent, 0, { keepVersions: 1 });
    await r.check();
    expect(r.current()?.version).toBe(w2.version);
    expect(maxDiff(fx.scores(r.current()?.model as CtrModel), d2.reference)).toBeLessThan(1e-7);
    r.stop();
  });

  const corruptions: [string, (dir: string) => Promise<void>][] = [
    ['checksum', (d) => writeFile(join(d, 'embeddings', 'C1.arrow'), 'not what the manifest says')],
    ['gap', (d) => rename(d, d.replace(/delta-2$/, 'delta-3'))],
    [
      'broken_chain',
      async (d) => {
        const m = JSON.parse(await readFile(join(d, 'manifest.json'), 'utf8'));
        await writeFile(join(d, 'manifest.json'), JSON.stringify({ ...m, prev_sha256: '0'.repeat(64) }));
      },
    ],
    ['bad_delta', (d) => writeFile(join(d, 'manifest.json'), '{"format": "lionctr-delta/1"')],
  ];
  it('refuses a bad delta (each reason): keeps the last good one, stops the chain until a full export', async () => {
    const fx = await fixture();
    let base = fx.base;
    for (const [reason, corrupt] of corruptions) {
      // a good delta-1 (for a new base: the chain resumed after the previous reason's refusal)
      const d1 = fx.advance(0);
      const w1 = await writeDeltaFiles(fx.dir, base, 1, d1.content);
      await fx.registry.check();
      expect(fx.registry.current()?.version).toBe(w1.version);
      expect(maxDiff(fx.scores(fx.served()), d1.reference)).toBeLessThan(1e-7);
      const w2 = await writeDeltaFiles(fx.dir, base, 2, fx.advance(1).content);
      await corrupt(w2.dir);
      await fx.registry.check();
      await fx.registry.check(); // refused once, not retried
      expect(fx.failed.map((e) => [e.base, e.seq, e.reason])).toEqual([[base, 2, reason]]);
      expect(fx.registry.current()?.version).toBe(w1.version);
      expect(maxDiff(fx.scores(fx.served()), d1.reference)).toBeLessThan(1e-7);
      expect(fx.registry.lastError?.version).toBe(`${base}/delta-2`);
      // the chain stays stopped: a later delta is not applied
      if (reason !== 'gap') {
        await writeDeltaFiles(fx.dir, base, 3, fx.advance(2).content, { prev_sha256: 'a'.repeat(64) });
        await fx.registry.check();
        expect(fx.registry.current()?.version).toBe(w1.version);
      }
      // a new full export is served; the next round applies its delta-1
      base = (await writeExport(fx.dir, fx.trained.model, meta(20))).version;
      await fx.registry.check();
      expect(fx.registry.current()?.version).toBe(base);
      fx.failed.length = 0;
    }
    fx.registry.stop();
  });

  it('refuses non-finite weights in a delta (rows or dense), as loadExport does for full exports', async () => {
    const fx = await fixture();
    let base = fx.base;
    for (const where of ['rows', 'dense'] as const) {
      const { content } = fx.advance(0);
      if (where === 'rows') content.rows.C2.values[1] = Number.NaN;
      else content.dense[0][3] = Number.POSITIVE_INFINITY;
      await writeDeltaFiles(fx.dir, base, 1, content);
      await fx.registry.check();
      expect(fx.failed.map((e) => [e.reason, e.base])).toEqual([['nonfinite', base]]);
      expect(fx.registry.current()?.version).toBe(base);
      expect(fx.scores(fx.served()).every(Number.isFinite)).toBe(true);
      base = (await writeExport(fx.dir, fx.trained.model, meta(3))).version;
      await fx.registry.check();
      fx.failed.length = 0;
    }
    fx.registry.stop();
  });
});

describe('a delta and the requests scoring with the served version', () => {
  /** A chunked request (PREDICT_CHUNK + 1 instances: 2 chunks) that waits between its chunks until go(). */
  function chunkedRequest(fx: Awaited<ReturnType<typeof fixture>>) {
    let go = () => {};
    const gate = new Promise<void>((r) => {
      go = r;
    });
    const held = fx.registry.acquire();
    if (!held) throw new Error('no version');
    const rows = sampleInstances(PREDICT_CHUNK + 1, fx.trained.schema);
    const want = Array.from(held.value.model.predict(fx.trained.featurizer.fromInstances(rows)));
    const scored = scoreRows(
      held.value,
      rows,
      (i) => `instances[${i}]`,
      () => gate,
    ).finally(() => held.release());
    return { held, want, go, scored };
  }

  it('waits for a chunked request to end, then applies in place: the request saw the old model only', async () => {
    const fx = await fixture();
    const req = chunkedRequest(fx);
    const w1 = await writeDeltaFiles(fx.dir, fx.base, 1, fx.advance(0).content);
    const waiting = new Promise((r) => fx.registry.once('deltaDeferred', r));
    const checking = fx.registry.check();
    expect(await waiting).toEqual({ base: fx.base, seq: 1, chunked: 1 });
    await new Promise((r) => setTimeout(r, 20));
    expect(fx.registry.current()?.version).toBe(fx.base); // deferred while the request is between chunks
    req.go();
    expect(maxDiff(await req.scored, req.want)).toBeLessThan(1e-6);
    await checking;
    expect(fx.registry.current()?.version).toBe(w1.version);
    expect(fx.applied[0]).toMatchObject({ inPlace: true });
    expect(fx.applied[0].deferredSeconds).toBeGreaterThan(0.015);
    fx.registry.stop();
  });

  it('does not wait for requests of one chunk (they read rows and tower in one stretch)', async () => {
    const fx = await fixture();
    const held = fx.registry.acquire(); // e.g. a request awaiting its ONNX run
    const w1 = await writeDeltaFiles(fx.dir, fx.base, 1, fx.advance(0).content);
    await fx.registry.check();
    expect(fx.applied[0]).toMatchObject({ inPlace: true, version: w1.version });
    expect(held?.version).toBe(fx.base); // it answers with the version it started with
    expect(fx.registry.inFlight()).toEqual({ [w1.version]: 1 });
    held?.release();
    expect(fx.registry.inFlight()).toEqual({ [w1.version]: 0 });
    fx.registry.stop();
  });

  it('after deltaMaxDeferSeconds: a copy; the chunked request keeps the old model, freed at its end', async () => {
    const fx = await fixture({ deltaMaxDeferSeconds: 0.05 });
    const req = chunkedRequest(fx);
    const dispose = vi.spyOn(req.held.value.model, 'dispose');
    const d1 = fx.advance(0);
    const w1 = await writeDeltaFiles(fx.dir, fx.base, 1, d1.content);
    await fx.registry.check();
    expect(fx.applied[0]).toMatchObject({ inPlace: false, version: w1.version });
    expect(fx.registry.current()?.version).toBe(w1.version);
    expect(maxDiff(fx.scores(fx.served()), d1.reference)).toBeLessThan(1e-7);
    expect(maxDiff(await fx.servedScores(fx.served()), d1.reference)).toBeLessThan(1e-6);
    expect(fx.registry.inFlight()).toEqual({ [fx.base]: 1, [w1.version]: 0 });
    req.go();
    expect(maxDiff(await req.scored, req.want)).toBeLessThan(1e-6);
    expect(dispose).toHaveBeenCalledTimes(1); // freed when the request ended
    fx.registry.stop();
  });

  it('never changes a labelled version in place: the delta goes to a copy, the labelled base stays', async () => {
    const fx = await fixture();
    fx.registry.stop(); // the label needs the version number, known once the base is written
    const r = new ModelRegistry(fx.dir, silent, 0, { keepVersions: 1, labels: { stable: fx.base } });
    await r.check();
    const base = fx.scores(r.current()?.model as CtrModel);
    const w1 = await writeDeltaFiles(fx.dir, fx.base, 1, fx.advance(0).content);
    await r.check();
    expect(r.current()?.version).toBe(w1.version);
    expect(r.loaded().map((m) => m.version)).toEqual([w1.version, fx.base]);
    const stable = r.acquire(fx.base);
    expect(fx.scores(stable?.value.model as CtrModel)).toEqual(base);
    stable?.release();
    r.stop();
  });
});
