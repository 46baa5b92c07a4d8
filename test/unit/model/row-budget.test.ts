/**
 * The embedding store's memory budget (src/model/row-budget.ts): under `memoryBudgetBytes` the
 * tables' bytes stay within the budget while new ids keep coming, the rows recycled are the least
 * recently updated ones, a table never passes `maxRowsPerTable`, and checkpoint -> restart ->
 * continue equals an uninterrupted run bit for bit with the budget on.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Featurizer } from '../../../src/features/featurizer.ts';
import { selectBackend } from '../../../src/model/backend.ts';
import { CtrModel, type ModelConfig } from '../../../src/model/ctr-model.ts';
import { kthSmallest } from '../../../src/model/row-budget.ts';
import { readCheckpoint, writeCheckpoint } from '../../../src/train/checkpoint.ts';
import { captureState, restoreState } from '../../../src/train/train-state.ts';
import { TrainStep } from '../../../src/train/train-step.ts';
import { mulberry32 } from '../../helpers/prng.ts';

beforeAll(async () => {
  await selectBackend('auto');
});
const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0.01 });
const schema = { numeric: [], categorical: ['user', 'ad'], embeddingDim: 7 };

/**
 * Batch `i` of 400 examples: `user` ids are new at every batch (an ever-growing vocabulary) except
 * the "hot" ids u0..u19 (every 10th example), `ad` ids come from 50.
 */
function batchAt(fz: Featurizer, i: number) {
  const rnd = mulberry32(100 + i);
  const inst = Array.from({ length: 400 }, (_, b) => ({
    user: b % 10 === 0 ? `u${(b / 10) % 20}` : `n${i}-${b}`,
    ad: `a${Math.floor(rnd() * 50)}`,
  }));
  const batch = fz.fromInstances(inst);
  for (let b = 0; b < batch.size; b++) batch.labels[b] = rnd() < 0.25 ? 1 : 0;
  return batch;
}

function trainer(cfg: Partial<ModelConfig>, kernel: 'wasm' | 'js' = 'wasm') {
  const model = new CtrModel(schema, { hidden: [4], initStd: 0.1, seed: 1, ...cfg });
  const step = new TrainStep(model, { dense: lp(1e-3), embedding: lp(3e-3), linear: lp(3e-3), sparseKernel: kernel });
  return { model, step, fz: new Featurizer(schema) };
}

describe('kthSmallest', () => {
  it('equals the sorted array at k (random arrays with ties)', () => {
    const rnd = mulberry32(3);
    for (let n = 1; n < 300; n += 7) {
      const a = Int32Array.from({ length: n }, () => Math.floor(rnd() * 20) - 5);
      const sorted = [...a].sort((x, y) => x - y);
      for (const k of [0, n >> 1, n - 1]) expect(kthSmallest(a.slice(), k)).toBe(sorted[k]);
    }
  });
});

describe('model.memoryBudgetBytes: bounded tables on an ever-growing vocabulary', () => {
  it('keeps the bytes within the budget, recycles the least recently updated rows, keeps the hot ids', () => {
    const budget = 400_000;
    const { model, step, fz } = trainer({ memoryBudgetBytes: budget });
    const evictedIds = new Set<string>();
    model.eviction.onEvict.push((slot, hi, lo) => evictedIds.add(`${slot}:${hi}:${lo}`));
    let maxHeld = 0;
    for (let i = 0; i < 60; i++) {
      step.run(batchAt(fz, i));
      maxHeld = Math.max(maxHeld, model.budget.heldBytes());
      const bytes = model.tableStats().reduce((s, t) => s + t.bytes, 0);
      // the budget counts each id map at its table's capacity; a map grows with the rows in use
      expect(bytes).toBeLessThanOrEqual(model.budget.heldBytes());
    }
    const user = model.tables[0];
    expect(maxHeld).toBeLessThanOrEqual(budget);
    // 60 batches x 360 new user ids = 21,600 ids: most were recycled
    expect(model.eviction.evicted[0]).toBeGreaterThan(15_000);
    expect(user.size).toBeLessThan(user.capacity + 1);
    // the hot ids, updated at every batch, were never evicted and still have rows
    const hot = fz.fromInstances(Array.from({ length: 20 }, (_, k) => ({ user: `u${k}`, ad: 'a0' })));
    for (let k = 0; k < 20; k++) expect(user.find(hot.idHi[k * 2], hot.idLo[k * 2])).toBeGreaterThanOrEqual(0);
    for (const id of evictedIds) expect(id.startsWith('user:') || id.startsWith('ad:')).toBe(true);
    // LRU: every row still held was updated no earlier than the newest evicted row's last update;
    // rows of the last batch are all there (only older ones were recycled)
    const last = fz.fromInstances(Array.from({ length: 400 }, (_, b) => ({ user: `n59-${b}`, ad: 'a0' })));
    let missing = 0;
    for (let b = 1; b < 400; b++) if (b % 10 !== 0 && user.find(last.idHi[b * 2], last.idLo[b * 2]) < 0) missing++;
    expect(missing).toBe(0);
  });

  it('without a budget the same stream keeps every row (the bound is what the budget adds)', () => {
    const { model, step, fz } = trainer({});
    for (let i = 0; i < 60; i++) step.run(batchAt(fz, i));
    expect(model.eviction.evicted[0]).toBe(0);
    expect(model.tables[0].size).toBe(20 + 60 * 360);
    expect(model.budget.heldBytes()).toBeGreaterThan(400_000);
  });

  it('maxRowsPerTable caps each table; new ids past a full table read as zero rows and are counted', () => {
    const { model, step, fz } = trainer({ maxRowsPerTable: 1000 });
    for (let i = 0; i < 30; i++) step.run(batchAt(fz, i));
    for (const t of model.tables) expect(t.capacity).toBeLessThanOrEqual(1000);
    expect(model.eviction.evicted[0]).toBeGreaterThan(0);
    const stats = model.tableStats();
    expect(stats[0].rows).toBeLessThanOrEqual(1000);
    expect(stats[1].evicted).toBe(0); // 50 ad ids fit
  });

  for (const kernel of ['wasm', 'js'] as const) {
    it(`checkpoint -> restart -> continue equals an uninterrupted run bit for bit (${kernel} kernel)`, async () => {
      const cfg = { memoryBudgetBytes: 400_000, maxRowsPerTable: 3000 };
      const a = trainer(cfg, kernel);
      for (let i = 0; i < 40; i++) a.step.run(batchAt(a.fz, i));
      const b = trainer(cfg, kernel);
      for (let i = 0; i < 20; i++) b.step.run(batchAt(b.fz, i));
      // through a checkpoint on disk (the manifest keeps each table's capacity)
      const dir = await mkdtemp(join(tmpdir(), 'lionctr-budget-'));
      const meta = { examples: 8000, sourceOffsets: {}, pass: 0, passExamples: 8000, watermarkMs: null };
      await writeCheckpoint(dir, await captureState(b.step), { ...meta, modelFingerprint: 'x' });
      const mid = (await readCheckpoint(join(dir, '20'))).state;
      await rm(dir, { recursive: true, force: true });
      expect(mid.tables[0].capacity).toBe(b.model.tables[0].capacity);
      const c = trainer(cfg, kernel);
      restoreState(c.step, mid);
      for (let i = 20; i < 40; i++) c.step.run(batchAt(c.fz, i));
      const sa = await captureState(a.step),
        sc = await captureState(c.step);
      expect(a.model.eviction.evicted[0]).toBeGreaterThan(0);
      for (let f = 0; f < 2; f++) {
        expect(sc.tables[f].size).toBe(sa.tables[f].size);
        expect(Buffer.from(sc.tables[f].rowHi.buffer).equals(Buffer.from(sa.tables[f].rowHi.buffer))).toBe(true);
        expect(Buffer.from(sc.tables[f].blocks.buffer).equals(Buffer.from(sa.tables[f].blocks.buffer))).toBe(true);
      }
      for (let k = 0; k < sa.tower.length; k++) expect(sc.tower[k]).toEqual(sa.tower[k]);
    });
  }
});
