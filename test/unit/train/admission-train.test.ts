/**
 * Training with feature admission (model.admission, src/model/admission.ts): ids refused a row
 * are not stored and their gradients are dropped by both sparse kernels; the sketch (and TTL
 * eviction's clock and last-seen times) go into checkpoints, so checkpoint -> restart ->
 * continue equals an uninterrupted run bit for bit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FeatureBatch } from '../../../src/features/feature-batch.ts';
import { Featurizer } from '../../../src/features/featurizer.ts';
import { criteoSlots } from '../../../src/features/schema.ts';
import { createSyntheticSource } from '../../../src/ingest/synthetic-source.ts';
import type { AdmissionConfig } from '../../../src/model/admission.ts';
import { selectBackend } from '../../../src/model/backend.ts';
import { CtrModel } from '../../../src/model/ctr-model.ts';
import { readCheckpoint, writeCheckpoint } from '../../../src/train/checkpoint.ts';
import { RowGradients } from '../../../src/train/optim/row-gradients.ts';
import { captureState, restoreState, type TrainState } from '../../../src/train/train-state.ts';
import { TrainStep } from '../../../src/train/train-step.ts';
import { mulberry32 } from '../../helpers/prng.ts';

beforeAll(async () => {
  await selectBackend('auto');
});
const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0.01 });

describe('training with admission: refused ids get no row and no update', () => {
  const schema = { numeric: [], categorical: ['C1', 'C2'], embeddingDim: 7 };
  const admission: AdmissionConfig = { minCount: 2, probability: 1, sketchBytes: 1 << 20 };
  /** 10 steps of 500 examples; C1 ids drawn from 3000 (many seen once), C2 from 40. */
  const stream = () => {
    const fz = new Featurizer(schema);
    const rnd = mulberry32(5);
    return Array.from({ length: 10 }, () => {
      const inst = Array.from({ length: 500 }, () => ({
        C1: `a${Math.floor(rnd() ** 2 * 3000)}`,
        C2: `b${Math.floor(rnd() * 40)}`,
      }));
      const batch = fz.fromInstances(inst);
      for (let b = 0; b < batch.size; b++) batch.labels[b] = rnd() < 0.2 ? 1 : 0;
      return { batch, inst };
    });
  };
  const train = (kernel: 'wasm' | 'js', adm: AdmissionConfig | undefined) => {
    const model = new CtrModel(schema, { hidden: [4], initStd: 0.1, seed: 1, admission: adm });
    const step = new TrainStep(model, { dense: lp(1e-3), embedding: lp(3e-3), linear: lp(3e-3), sparseKernel: kernel });
    const data = stream();
    const losses = data.map((d) => step.run(d.batch).loss);
    return { model, step, losses, data };
  };

  it('rows exist for ids seen twice or more only; the wasm and JS kernels train the same rows', () => {
    const w = train('wasm', admission),
      j = train('js', admission);
    // the reference: sightings of each C1 id over the stream, counted here
    const seen = new Map<string, number>();
    for (const d of w.data) for (const i of d.inst) seen.set(i.C1, (seen.get(i.C1) ?? 0) + 1);
    const twice = [...seen.values()].filter((n) => n >= 2).length;
    expect(seen.size - twice).toBeGreaterThan(300); // ids seen once exist, and get no row
    for (const m of [w.model, j.model]) {
      expect(m.tables[0].size).toBe(twice);
      expect(m.gates[0].admitted).toBe(twice);
      // rejections: every sighting of an id before its row exists (its first, here)
      expect(m.gates[0].rejected).toBe(seen.size);
      expect(m.tables[1].size).toBe(40);
    }
    const fz = new Featurizer(schema);
    const once = [...seen].filter(([, n]) => n === 1).map(([id]) => id);
    const ids = fz.fromInstances(once.map((C1) => ({ C1, C2: 'b0' })));
    for (let b = 0; b < ids.size; b++) expect(w.model.tables[0].find(ids.idHi[2 * b], ids.idLo[2 * b])).toBe(-1);
    // the kernels differ by float32 rounding only; a kernel that took row -1 would corrupt or trap
    for (let s = 0; s < 10; s++) expect(Math.abs(w.losses[s] - j.losses[s]), `step ${s}`).toBeLessThan(1e-5);
    for (let f = 0; f < 2; f++) {
      const a = w.model.tables[f],
        b = j.model.tables[f];
      let d = 0;
      for (let r = 0; r < a.size; r++) {
        // lastStep and update count: a kernel that counted a refused sighting would differ
        const m = a.rows.metaOff;
        for (const k of [m, m + 1])
          expect(a.rows.words[r * a.rows.stride + k]).toBe(b.rows.words[r * b.rows.stride + k]);
        for (let c = 0; c < a.width; c++)
          d = Math.max(d, Math.abs(a.rows.data[r * a.rows.stride + c] - b.rows.data[r * b.rows.stride + c]));
      }
      expect(d, `table ${f}`).toBeLessThan(1e-5);
    }
    w.model.dispose();
    j.model.dispose();
  });

  it('admission off (minCount 1, probability 1) trains bit for bit as without the setting', async () => {
    const a = train('wasm', { minCount: 1, probability: 1, sketchBytes: 64 }),
      b = train('wasm', undefined);
    const sa = await captureState(a.step),
      sb = await captureState(b.step);
    expect(a.model.gates[0].rejected).toBe(0);
    sa.tables.forEach((t, f) => {
      expect(t.sketch).toBeUndefined();
      expect(Buffer.from(t.blocks.buffer).equals(Buffer.from(sb.tables[f].blocks.buffer))).toBe(true);
    });
    a.model.dispose();
    b.model.dispose();
  });
});

describe('RowGradients skips row -1 (an id without a row)', () => {
  it('sums the rows that exist only, in batch order', () => {
    const rg = new RowGradients(3);
    // B = 5, F = 1: rows 2, -1, 2, -1, 0; gx [B, 2], dlogit [B]
    const rowIdx = Int32Array.of(2, -1, 2, -1, 0);
    const gx = Float32Array.of(1, 2, 10, 20, 3, 4, 30, 40, 5, 6);
    const dlogit = Float32Array.of(0.5, 9, 0.25, 9, 1);
    rg.accumulate({ rowIdx, B: 5, F: 1, gx, I: 2, dlogit }, 0, 0, 4);
    expect(rg.n).toBe(2);
    expect([...rg.rowIds.subarray(0, 2)]).toEqual([2, 0]);
    expect([...rg.grads.subarray(0, 6)]).toEqual([0.75, 4, 6, 1, 5, 6]);
  });
});

describe('checkpoint -> restart -> continue with admission and eviction on', () => {
  const schema = { ...criteoSlots(), embeddingDim: 4 };
  const batches: FeatureBatch[] = [];
  beforeAll(async () => {
    const fz = new Featurizer(schema);
    for await (const rb of createSyntheticSource({ seed: 3, limit: 8 * 256 }).batches({ batchSize: 256 }))
      batches.push(fz.fromRecordBatch(rb));
  });
  const build = (kernel: 'wasm' | 'js') => {
    // halved every 500 sightings of a slot: the sightings since the last halving are state too
    const admission = { minCount: 2, probability: 0.7, sketchBytes: 4096, halveEvery: 500 };
    // the synthetic stream's event times step 10 ms an example: 2.56 s a batch of 256
    const eviction = { ttlSeconds: 4, sweepSeconds: 1 };
    const model = new CtrModel(schema, { hidden: [8], initStd: 0.05, seed: 1, admission, eviction });
    return new TrainStep(model, {
      dense: lp(1e-3),
      embedding: lp(1e-2),
      linear: lp(1e-2),
      sparseKernel: kernel,
      sparseMode: 'exact',
      schedule: { kind: 'inverse-sqrt', timescaleSteps: 2, warmupSteps: 0, floor: 0.1 },
    });
  };
  const same = (x: TrainState, y: TrainState) => {
    for (const [i, v] of x.tower.entries())
      expect(Buffer.from(v.buffer).equals(Buffer.from(y.tower[i].buffer)), `tower var ${i}`).toBe(true);
    x.tables.forEach((t, f) => {
      const u = y.tables[f];
      expect(t.size, t.slot).toBe(u.size);
      expect(Buffer.from(t.blocks.buffer).equals(Buffer.from(u.blocks.buffer)), `${t.slot} rows`).toBe(true);
      expect(Buffer.from(t.sketch!).equals(Buffer.from(u.sketch!)), `${t.slot} sketch`).toBe(true);
      expect(t.sketchSightings, `${t.slot} sightings`).toBe(u.sketchSightings);
      expect(Buffer.from(t.lastSeen!.buffer).equals(Buffer.from(u.lastSeen!.buffer)), `${t.slot} times`).toBe(true);
    });
  };

  for (const kernel of ['wasm', 'js'] as const) {
    it(`${kernel} kernel: a checkpoint on disk, restored into a fresh model, continues bit for bit`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'lionctr-admission-'));
      try {
        const a = build(kernel);
        for (const b of batches.slice(0, 4)) a.run(b);
        const meta = { examples: 1024, sourceOffsets: {}, pass: 0, passExamples: 1024, watermarkMs: null };
        await writeCheckpoint(dir, await captureState(a), { ...meta, modelFingerprint: 'x' });
        for (const b of batches.slice(4)) a.run(b);
        const ck = await readCheckpoint(join(dir, '4'));
        expect(ck.state.tables.every((t) => t.sketch?.length === 4096)).toBe(true);
        expect(ck.state.tables.some((t) => (t.sketchSightings ?? 0) > 0)).toBe(true);
        expect(ck.state.evictionClock!.nowSec).toBeGreaterThan(0);
        expect(a.model.eviction.evicted.reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
        const b2 = build(kernel);
        restoreState(b2, ck.state);
        for (const b of batches.slice(4)) b2.run(b);
        const after = await captureState(a);
        same(await captureState(b2), after);
        expect(b2.model.eviction.nowSec).toBe(a.model.eviction.nowSec);
        expect(b2.model.eviction.lastSweepSec).toBe(a.model.eviction.lastSweepSec);
        expect(after.tables.reduce((s, t) => s + t.size, 0)).toBeGreaterThan(0);
        expect(a.model.gates.reduce((s, g) => s + g.rejected, 0)).toBeGreaterThan(0);
        // without the sketch the continuation admits other rows: the sketch is part of the state
        const b3 = build(kernel);
        const noSketch = await readCheckpoint(join(dir, '4'));
        for (const t of noSketch.state.tables) delete t.sketch;
        restoreState(b3, noSketch.state);
        for (const b of batches.slice(4)) b3.run(b);
        const s3 = await captureState(b3);
        expect(s3.tables.some((t, f) => t.size !== after.tables[f].size)).toBe(true);
        for (const s of [a, b2, b3]) {
          s.model.dispose();
          s.denseLion.dispose();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
