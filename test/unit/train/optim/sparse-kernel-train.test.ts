import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Featurizer } from '../../../../src/features/featurizer.ts';
import { selectBackend } from '../../../../src/model/backend.ts';
import { CtrModel } from '../../../../src/model/ctr-model.ts';
import { TrainStep } from '../../../../src/train/train-step.ts';
import { WasmFallback } from '../../../../src/train/optim/wasm/wasm-update.ts';
import { wasmLimits } from '../../../../src/train/optim/wasm/wasm-memory.ts';

// The train step's choice of sparse kernel, per table: WebAssembly memories only for the
// tables the wasm kernel runs, and a table that outgrows its memory goes on with the JS
// kernel (wasmLimits.maxBytes is lowered here so that a small table does that).
describe('TrainStep sparse kernels', () => {
  beforeAll(async () => {
    await selectBackend('auto');
  });
  const limit = wasmLimits.maxBytes;
  afterEach(() => {
    wasmLimits.maxBytes = limit;
  });

  const schema = { numeric: [], categorical: ['C1', 'C2'], embeddingDim: 15 };
  const lp = (lr: number) => ({ lr, beta1: 0.9, beta2: 0.99, weightDecay: 0.01 });
  /** 12 steps of 1000 examples: C1 sees 1000 new ids per step, C2 50 ids again and again. */
  const train = (kernel: 'wasm' | 'js') => {
    const model = new CtrModel(schema, { hidden: [4], initStd: 0.1, seed: 1 });
    const notes: string[] = [];
    const step = new TrainStep(
      model,
      { dense: lp(1e-3), embedding: lp(3e-3), linear: lp(3e-3), sparseKernel: kernel },
      (m) => notes.push(m),
    );
    const fz = new Featurizer(schema);
    const losses: number[] = [];
    for (let s = 0; s < 12; s++) {
      const batch = fz.fromInstances(
        Array.from({ length: 1000 }, (_, i) => ({ C1: `a${s * 1000 + i}`, C2: `b${i % 50}` })),
      );
      for (let b = 0; b < batch.size; b++) batch.labels[b] = (b * 7919 + s) % 11 === 0 ? 1 : 0;
      losses.push(step.run(batch).loss);
    }
    return { model, notes, step, losses };
  };

  it(
    'a table that outgrows its WebAssembly memory lets it go and goes on with the JS kernel, and says so; ' +
      'training equals a JS-kernel run',
    () => {
      // rows may use 1 MiB: C1 passes it when it doubles to 8,192 rows of 136 B
      wasmLimits.maxBytes = 257 * 2 ** 20;
      const w = train('wasm');
      const [c1, c2] = w.model.tables;
      expect(c1.size).toBe(12_000);
      expect(c1.rows.memory).toBeNull();
      expect(c2.rows.memory).not.toBeNull();
      const [u1, u2] = w.step.sparseUpdates as WasmFallback[];
      expect(u1).toBeInstanceOf(WasmFallback);
      expect(u1.wasm.kernel).toBeNull(); // the old memory is not held
      expect(u1.fellBack).toBe(true);
      expect(u2.wasm.kernel).not.toBeNull();
      expect(u2.fellBack).toBe(false);
      expect(w.notes).toHaveLength(1);
      expect(w.notes[0]).toMatch(
        new RegExp(
          /slot C1: js kernel from step \d+ on, its rows \(\d+\.\d\d GiB\) /.source +
            /are over the \d+\.\d\d GiB a WebAssembly memory holds for rows/.source,
        ),
      );
      expect(w.step.kernelNote).toBe('sparse step kernel: wasm (WebAssembly SIMD)');

      const j = train('js');
      expect(j.model.tables.every((t) => t.rows.memory === null)).toBe(true); // the JS kernel never asks for one
      expect(j.step.kernelNote).toBe('sparse step kernel: js (optim.sparseKernel=js)');
      // the kernels differ by float32 rounding only
      for (let s = 0; s < 12; s++) expect(Math.abs(w.losses[s] - j.losses[s]), `step ${s}`).toBeLessThan(1e-5);
      for (let f = 0; f < 2; f++) {
        const a = w.model.tables[f],
          b = j.model.tables[f];
        let d = 0;
        for (let r = 0; r < a.size; r++)
          for (let c = 0; c < a.width; c++)
            d = Math.max(d, Math.abs(a.rows.data[r * a.rows.stride + c] - b.rows.data[r * b.rows.stride + c]));
        expect(d, `table ${f}`).toBeLessThan(1e-5);
      }
      w.model.dispose();
      j.model.dispose();
    },
  );

  it('a model that only predicts (serving) takes no WebAssembly memory', () => {
    const model = new CtrModel(schema, { hidden: [4], initStd: 0.1, seed: 1 });
    const fz = new Featurizer(schema);
    model.gather(fz.fromInstances([{ C1: 'x', C2: 'y' }]), true);
    model.predict(fz.fromInstances([{ C1: 'x', C2: 'y' }]));
    expect(model.tables.every((t) => t.rows.memory === null)).toBe(true);
    model.dispose();
  });
});
