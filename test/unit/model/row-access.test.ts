/**
 * The rows' interface (src/model/row-access.ts) and training through it (row-sync.ts): the
 * local store's batched lookup and update copy row blocks exactly; and a model trained for 6
 * steps of sparse Lion with its rows in a test-only "remote" store (a Map behind an async
 * boundary, test/helpers/row-access-remote.ts; the local tables emptied after every step, so
 * every row read comes from the store) ends with the same rows as the same model trained on the
 * local store: every id's block (weights, momentum, lastStep, updates) bit for bit, and the same
 * tower. Equality is exact because the step is the same code on the same values: only the row
 * indices differ, and no update depends on them. Kernels: wasm and JS; momentum float32 and
 * bfloat16; lazy and exact catch-up.
 */
import { describe, expect, it } from 'vitest';
import { criteoSlots } from '../../../src/features/schema.ts';
import { selectBackend } from '../../../src/model/backend.ts';
import { CtrModel } from '../../../src/model/ctr-model.ts';
import { EmbeddingTable } from '../../../src/model/embedding-table.ts';
import { layoutOf, LocalRowAccess } from '../../../src/model/row-access.ts';
import { RowSync } from '../../../src/model/row-sync.ts';
import type { OptimConfig } from '../../../src/train/optim/optim-config.ts';
import { TrainStep } from '../../../src/train/train-step.ts';
import { MapRowAccess, syntheticBatches } from '../../helpers/row-access-remote.ts';

const schema = { ...criteoSlots(), embeddingDim: 4 };

const batches = (n: number, size: number) => syntheticBatches(schema, n, size);

function optim(kernel: 'wasm' | 'js', mode: 'lazy' | 'exact'): OptimConfig {
  const lp = (lr: number, weightDecay = 0) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay });
  return {
    dense: lp(1e-3),
    embedding: lp(3e-3, mode === 'exact' ? 0.1 : 0),
    linear: lp(3e-3),
    sparseKernel: kernel,
    sparseMode: mode,
  };
}

describe('LocalRowAccess', () => {
  it('update then lookup copies whole row blocks; absent ids are not found', () => {
    const t = new EmbeddingTable('C1', 3, { momentumDtype: 'bfloat16' });
    const store = new LocalRowAccess([t]);
    const S = layoutOf(t).stride;
    expect(layoutOf(t)).toEqual({ width: 4, momentum: 'bfloat16', stride: 4 + 2 + 2 });
    const ids = { hi: Uint32Array.of(1, 2, 0xffffffff), lo: Uint32Array.of(5, 6, 7), n: 3 };
    const blocks = Int32Array.from({ length: 3 * S }, (_, i) => i * 7919 - 40000);
    store.update('C1', ids, blocks);
    const out = new Int32Array(4 * S).fill(-1),
      found = new Uint8Array(4);
    store.lookup('C1', { hi: Uint32Array.of(2, 9, 1, 0xffffffff), lo: Uint32Array.of(6, 9, 5, 7), n: 4 }, out, found);
    expect([...found]).toEqual([1, 0, 1, 1]);
    expect([...out.subarray(0, S)]).toEqual([...blocks.subarray(S, 2 * S)]);
    expect([...out.subarray(S, 2 * S)]).toEqual(new Array(S).fill(-1));
    expect([...out.subarray(2 * S)]).toEqual([...blocks.subarray(0, S), ...blocks.subarray(2 * S)]);
    expect(() => store.lookup('C9', ids, out, found)).toThrow(/no embedding table for slot "C9"/);
    const served = new EmbeddingTable('C1', 3, { momentumDtype: 'none' });
    expect(() => layoutOf(served)).toThrow(/weights only/);
  });
});

describe('training through a remote row store', () => {
  const cases = [
    { kernel: 'wasm', momentum: 'float32', mode: 'lazy', keepLocal: false },
    { kernel: 'js', momentum: 'bfloat16', mode: 'exact', keepLocal: false },
    { kernel: 'wasm', momentum: 'bfloat16', mode: 'exact', keepLocal: true },
  ] as const;
  it.each(cases)('equals the local store bit for bit after 6 steps: %o', async (c) => {
    await selectBackend('auto');
    const data = await batches(6, 256);
    const make = () => new CtrModel(schema, { hidden: [8], initStd: 0.01, seed: 7, momentumDtype: c.momentum });
    const local = make(),
      remote = make();
    const stepL = new TrainStep(local, optim(c.kernel, c.mode)),
      stepR = new TrainStep(remote, optim(c.kernel, c.mode));
    const store = new MapRowAccess((slot) => layoutOf(remote.tables[remote.slots.indexOf(slot)]).stride);
    const sync = new RowSync(remote, store, c.keepLocal);
    for (const b of data) {
      stepL.run(b);
      await sync.pull(b);
      stepR.run(b);
      await sync.push();
      if (!c.keepLocal) expect(remote.tables.every((t) => t.size === 0)).toBe(true);
    }
    let rows = 0,
      differ = 0;
    for (const t of local.tables) {
      const S = t.rows.stride;
      for (let r = 0; r < t.size; r++) {
        const got = store.rows.get(MapRowAccess.key(t.slot, t.idHi(r), t.idLo(r)));
        const want = t.rows.words.subarray(r * S, (r + 1) * S);
        if (!got || got.some((w, j) => w !== want[j])) differ++;
        rows++;
      }
    }
    expect(rows).toBeGreaterThan(1000);
    expect(store.rows.size).toBe(rows);
    expect(differ).toBe(0);
    const towerL = local.tower.vars.map((v) => [...(v.dataSync() as Float32Array)]);
    const towerR = remote.tower.vars.map((v) => [...(v.dataSync() as Float32Array)]);
    expect(towerR).toEqual(towerL);
    expect(store.calls).toEqual({ lookup: 6 * local.slots.length, update: 6 * local.slots.length });
    local.dispose();
    remote.dispose();
  });
});
