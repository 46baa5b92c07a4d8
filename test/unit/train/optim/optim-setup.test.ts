import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/model/backend.ts';
import { CtrModel } from '../../../../src/model/ctr-model.ts';
import { DenseAdam } from '../../../../src/train/optim/adam.ts';
import { DenseLion } from '../../../../src/train/optim/dense-lion.ts';
import type { OptimConfig } from '../../../../src/train/optim/optim-config.ts';
import { setupOptimizer } from '../../../../src/train/optim/optim-setup.ts';
import { AdamWUpdate, JsLionUpdate } from '../../../../src/train/optim/sparse-update.ts';
import { WasmFallback } from '../../../../src/train/optim/wasm/wasm-update.ts';

// The optimizer is chosen once, here: which sparse step object each table gets and which
// links the dense chain has, for each setting that chooses.
describe('setupOptimizer: the update objects chosen per table', () => {
  const schema = { numeric: [], categorical: ['C1', 'C2', 'C3'], embeddingDim: 2 };
  let model: CtrModel;
  beforeAll(async () => {
    await selectBackend('cpu');
    model = new CtrModel(schema, { hidden: [2], initStd: 0.1, seed: 1 });
  });
  afterAll(() => model.dispose());
  const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0 });
  const base: OptimConfig = { dense: lp(1e-3), embedding: lp(1e-2), linear: lp(2e-2) };
  const kinds = (o: ReturnType<typeof setupOptimizer>) => o.sparse.map((u) => u.constructor.name);

  it('default (wasm): the wasm kernel with its fall-back for every table; chain Lion -> lr, no clipping', () => {
    const o = setupOptimizer(model, base, () => {});
    expect(o.sparse.every((u) => u instanceof WasmFallback)).toBe(true);
    expect(o.dense.links).toHaveLength(2);
    expect(o.dense.links[0]).toBe(o.denseLion);
    expect(o.kernelNote).toBe('sparse step kernel: wasm (WebAssembly SIMD)');
    o.denseLion.dispose();
  });

  it('optim.sparseKernel=js: the JS kernel for every table; clipGlobalNorm puts a clip link before Lion', () => {
    const o = setupOptimizer(model, { ...base, sparseKernel: 'js', clipGlobalNorm: 1 }, () => {});
    expect(kinds(o)).toEqual(['JsLionUpdate', 'JsLionUpdate', 'JsLionUpdate']);
    expect(o.dense.links).toHaveLength(3);
    expect(o.dense.links[1]).toBeInstanceOf(DenseLion);
    expect(o.kernelNote).toBe('sparse step kernel: js (optim.sparseKernel=js)');
    o.denseLion.dispose();
  });

  it('a table in exact mode under a schedule that never turns constant gets the JS kernel, the others wasm', () => {
    const o = setupOptimizer(
      model,
      {
        ...base,
        tables: { C2: { mode: 'exact', lr: 0.05 } },
        schedule: { kind: 'inverse-sqrt', timescaleSteps: 5, warmupSteps: 0, floor: 0 },
      },
      () => {},
    );
    expect(o.sparse[0]).toBeInstanceOf(WasmFallback);
    expect(o.sparse[1]).toBeInstanceOf(JsLionUpdate);
    expect(o.sparse[2]).toBeInstanceOf(WasmFallback);
    expect(o.sparseGroups[1]).toMatchObject({ embedding: { lr: 0.05 }, mode: 'exact' });
    expect(o.kernelNote).toMatch(/^sparse step kernel: wasm \(WebAssembly SIMD\), js for 1 of 3 tables/);
    o.denseLion.dispose();
  });

  it('adam: AdamW for every table, the chain AdamW -> lr (no clipping), the Lion link kept for checkpoints', () => {
    const o = setupOptimizer(model, { ...base, adam: true, clipGlobalNorm: 1 }, () => {});
    expect(o.sparse.every((u) => u instanceof AdamWUpdate)).toBe(true);
    expect(o.dense.links).toHaveLength(2);
    expect(o.dense.links[0]).toBeInstanceOf(DenseAdam);
    expect(o.denseLion).toBeInstanceOf(DenseLion);
    expect(o.kernelNote).toBe('sparse step: AdamW (JS) for comparison');
    (o.dense.links[0] as DenseAdam).dispose();
    o.denseLion.dispose();
  });
});
