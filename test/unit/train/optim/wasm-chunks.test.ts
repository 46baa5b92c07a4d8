/**
 * The sparse Lion step over a chunked RowStore (issue 12): rows of a table in chunks of 64
 * here (rowViewLimits.chunkRowsLog2 lowered), each chunk in a WebAssembly memory of its own
 * with a kernel instance of its own, against the same rows in one chunk. A row's gradients
 * are summed in batch order within its chunk, as over one memory, so the wasm kernel gives
 * the single-chunk result bit for bit; the JS kernel likewise.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { EmbeddingTable } from '../../../../src/model/embedding-table.ts';
import { RowStore, rowViewLimits } from '../../../../src/model/row-store.ts';
import type { BatchGrads } from '../../../../src/train/optim/batch-grads.ts';
import type { SparseLionGroup, SparseMode } from '../../../../src/train/optim/sparse-lion.ts';
import { JsLionUpdate } from '../../../../src/train/optim/sparse-update.ts';
import { CONSTANT_LR, lrFunction } from '../../../../src/train/optim/schedule.ts';
import { kernelModule } from '../../../../src/train/optim/wasm/kernel-module.ts';
import { WasmLionUpdate } from '../../../../src/train/optim/wasm/wasm-update.ts';

const rng = (seed: number) => () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 4294967296;
};

/** A store of R rows (chunks of 2^log2 rows), weights from `seed`, lastStep -1. */
function store(W: number, R: number, dtype: 'float32' | 'bfloat16', log2: number, seed: number): RowStore {
  const real = rowViewLimits.chunkRowsLog2;
  rowViewLimits.chunkRowsLog2 = log2;
  const s = new RowStore(W, R, dtype);
  rowViewLimits.chunkRowsLog2 = real;
  const rand = rng(seed);
  for (let r = 0; r < R; r++) {
    s.setWeights(
      r,
      Array.from({ length: W }, () => rand() - 0.5),
    );
    s.setLastStep(r, -1);
  }
  return s;
}

/** Every row's whole block (weights, momentum, lastStep, updates) as raw words. */
function blocks(s: RowStore, R: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < R; r++) out.push(...s.wordsOf(r).subarray(s.at(r), s.at(r) + s.stride));
  return out;
}

const slot = (rows: RowStore) => ({ table: { rows, width: rows.width } as unknown as EmbeddingTable, f: 1, col: 17 });

describe('sparse Lion over chunked rows', () => {
  const real = rowViewLimits.chunkRowsLog2;
  afterEach(() => {
    rowViewLimits.chunkRowsLog2 = real;
  });

  for (const dtype of ['float32', 'bfloat16'] as const)
    for (const mode of ['lazy', 'decayed', 'exact'] as SparseMode[])
      it(`${dtype} ${mode}: 8 chunks of 64 rows give one chunk's rows bit for bit (wasm and JS kernels)`, () => {
        const W = 17,
          R = 500,
          F = 3,
          I = F * 16 + 4,
          B = 700;
        const group: SparseLionGroup = {
          embedding: { lr: 0.01, beta1: 0.9, beta2: 0.99, weightDecay: 0.1 },
          linear: { lr: 0.02, beta1: 0.9, beta2: 0.99, weightDecay: 0 },
          mode,
        };
        const lrAt = lrFunction(CONSTANT_LR);
        const kinds = kernelModule() ? ['wasm', 'js'] : ['js'];
        for (const kind of kinds) {
          const one = store(W, R, dtype, 20, 5),
            many = store(W, R, dtype, 6, 5);
          expect(one.chunks.length).toBe(1);
          expect(many.chunks.length).toBe(8);
          const make = (s: RowStore) =>
            kind === 'wasm' ? new WasmLionUpdate(slot(s), group, lrAt) : new JsLionUpdate(slot(s), group, lrAt);
          const u1 = make(one),
            u2 = make(many);
          const rand = rng(11);
          let step = 0;
          for (let it = 0; it < 12; it++) {
            // skewed ids (duplicates, idle rows), some without a row (-1), chunks 6 and 7 idle at first
            const top = it < 4 ? 384 : R;
            const rowIdx = new Int32Array(B * F).map(() => (rand() < 0.05 ? -1 : Math.floor(rand() ** 2 * top)));
            const g: BatchGrads = {
              rowIdx,
              B,
              F,
              gx: new Float32Array(B * I).map(() => rand() - 0.5),
              I,
              dlogit: new Float32Array(B).map(() => rand() - 0.5),
            };
            step += 1 + Math.floor(rand() * 3);
            if (u1 instanceof WasmLionUpdate && u2 instanceof WasmLionUpdate) {
              expect(u1.tryApply(g, step)).toBe(true);
              expect(u2.tryApply(g, step)).toBe(true);
            } else {
              (u1 as JsLionUpdate).apply(g, step);
              (u2 as JsLionUpdate).apply(g, step);
            }
          }
          expect(blocks(many, R)).toEqual(blocks(one, R));
          if (kind === 'wasm') {
            // each chunk in a memory of its own, its rows at byte 0
            const mems = new Set(many.chunks.map((c) => c.memory));
            expect(mems.size).toBe(8);
            expect(many.chunks.every((c) => c.memory !== null && c.data.buffer === c.memory.buffer)).toBe(true);
          }
        }
      });

  it.runIf(kernelModule() !== null)(
    'a table that grows while its chunk 0 is in a memory: new chunks are made in memories, same rows',
    () => {
      const W = 17,
        F = 1,
        I = 16,
        B = 300;
      const group: SparseLionGroup = { embedding: { lr: 0.01, beta1: 0.9, beta2: 0.99, weightDecay: 0.1 } };
      const lrAt = lrFunction(CONSTANT_LR);
      const one = store(W, 40, 'bfloat16', 20, 9),
        many = store(W, 40, 'bfloat16', 6, 9);
      const u1 = new WasmLionUpdate({ ...slot(one), f: 0, col: 0 }, group, lrAt),
        u2 = new WasmLionUpdate({ ...slot(many), f: 0, col: 0 }, group, lrAt);
      const rand = rng(3);
      for (let it = 0; it < 6; it++) {
        const R = it < 2 ? 40 : 500;
        if (it === 2) {
          const mem0 = many.chunks[0].memory;
          expect(mem0).not.toBeNull();
          one.grow(500);
          many.grow(500);
          expect(many.chunks[0].memory).toBe(mem0); // grew in place
          expect(many.chunks.every((c) => c.memory !== null)).toBe(true); // made in memories, not copied later
        }
        const rowIdx = new Int32Array(B * F).map(() => Math.floor(rand() * R));
        const g: BatchGrads = {
          rowIdx,
          B,
          F,
          gx: new Float32Array(B * I).map(() => rand() - 0.5),
          I,
          dlogit: new Float32Array(B).map(() => rand() - 0.5),
        };
        expect(u1.tryApply(g, it + 1)).toBe(true);
        expect(u2.tryApply(g, it + 1)).toBe(true);
      }
      expect(many.chunks.length).toBe(8);
      expect(blocks(many, 500)).toEqual(blocks(one, 500));
    },
  );
});
