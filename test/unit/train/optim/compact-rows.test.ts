import { describe, expect, it } from 'vitest';
import { fromLegacyBf16, legacyBf16Stride } from '../../../../src/model/row-blocks.ts';
import { RowStore } from '../../../../src/model/row-store.ts';
import { RowGradients } from '../../../../src/train/optim/row-gradients.ts';
import { sparseLionStep } from '../../../../src/train/optim/sparse-lion.ts';
import { WasmSparseLion } from '../../../../src/train/optim/wasm/sparse-kernel.ts';

// Compact rows (issue 12, bytes per row): with bfloat16 momentum the update count is a
// saturating uint16 in the half after the momenta (RowStore), the wasm kernel dedupes with a
// row set sized by the batch instead of a mark per row of the table (kernel-scratch.ts), and
// checkpoints of the old bfloat16 layout are converted on load (row-blocks.ts).
describe('compact rows', () => {
  const group = { embedding: { lr: 0.01, beta1: 0.9, beta2: 0.99, weightDecay: 0.01 } };
  const batch = (rows: number[], D: number) => ({
    rowIdx: Int32Array.from(rows),
    B: rows.length,
    F: 1,
    gx: Float32Array.from({ length: rows.length * D }, (_, i) => Math.sin(i + 1)),
    I: D,
    dlogit: Float32Array.from(rows, (_, i) => Math.cos(i)),
  });

  it('bfloat16 rows are 27 words (108 B) at W = 17, 26 at W = 16; float32 rows keep 2W + 2', () => {
    expect(new RowStore(17, 4, 'bfloat16').stride).toBe(27); // was 28
    expect(new RowStore(16, 4, 'bfloat16').stride).toBe(26);
    expect(new RowStore(17, 4, 'float32').stride).toBe(36);
    expect(new RowStore(17, 4, 'none').stride).toBe(17);
  });

  it('the update count saturates at 65535 in both kernels and leaves momentum, weights and lastStep alone', () => {
    for (const W of [17, 16, 5]) {
      const D = W - 1,
        a = new RowStore(W, 8, 'bfloat16'),
        b = new RowStore(W, 8, 'bfloat16');
      for (const s of [a, b]) {
        for (let r = 0; r < 8; r++)
          s.setWeights(
            r,
            Array.from({ length: W }, (_, j) => (r + 1) * 0.1 - j * 0.01),
          );
        s.half[2 * s.at(2) + s.countHalf] = 0xfffe; // two updates from saturating
        s.half[2 * s.at(5) + s.countHalf] = 0xffff;
      }
      const k = new WasmSparseLion(b),
        rg = new RowGradients(W, 16);
      for (let step = 1; step <= 3; step++) {
        const g = batch([2, 5, 3, 2], D);
        rg.accumulate(g, 0, 0, 8);
        sparseLionStep(a, rg.rowIds, rg.n, rg.grads, group, step);
        expect(k.step(g, 0, 0, group, step)).toBe(true);
      }
      for (const s of [a, b]) {
        expect([s.updates(2), s.updates(5), s.updates(3), s.updates(0)], `W ${W}`).toEqual([0xffff, 0xffff, 3, 0]);
        expect(s.lastStep(2)).toBe(3);
      }
      // the same weights and momenta from both kernels (the count shares the momenta's last word at odd W)
      for (let r = 0; r < 8; r++) {
        for (let j = 0; j < W; j++) {
          expect(Math.abs(a.data[a.at(r) + j] - b.data[b.at(r) + j])).toBeLessThan(1e-6);
          expect(Math.abs(a.half[2 * (a.at(r) + W) + j] - b.half[2 * (b.at(r) + W) + j])).toBeLessThanOrEqual(1);
        }
      }
      expect(a.data[a.at(0)]).toBeCloseTo(0.1, 6); // untouched row
    }
  });

  it("the kernel's scratch does not grow with the table's rows (no dedupe mark per row)", () => {
    const scratch = (R: number) => {
      const rows = new RowStore(17, R, 'bfloat16'),
        k = new WasmSparseLion(rows);
      expect(k.step(batch([1, 7, 1, 100, 9], 16), 0, 0, group, 1)).toBe(true);
      return rows.memory!.buffer.byteLength - rows.bytes;
    };
    const small = scratch(1 << 10),
      large = scratch(1 << 18);
    // before: 8 B a row of marks (2 MiB more at 2^18 rows); now only the rounding to 64 KiB pages differs
    expect(large - small).toBeLessThan(65536);
  });

  it('converts blocks of the old bfloat16 layout (int32 count after lastStep) to the current one', () => {
    for (const W of [17, 16]) {
      const rows = new RowStore(W, 3, 'bfloat16'),
        S0 = legacyBf16Stride(W),
        old = new Uint32Array(3 * S0),
        h = new Uint16Array(old.buffer);
      expect(S0).toBe(W + Math.ceil(W / 2) + 2);
      for (let r = 0; r < 3; r++) {
        for (let j = 0; j < W; j++) old[r * S0 + j] = 0x3f800000 + r * 64 + j; // weights (float bits)
        for (let j = 0; j < W; j++) h[2 * (r * S0 + W) + j] = 0x3f00 + r * 32 + j; // bf16 momenta
        old[r * S0 + S0 - 2] = 1000 + r; // lastStep
        old[r * S0 + S0 - 1] = [5, 70000, 0][r]; // update count: the second over a uint16
      }
      const blocks = fromLegacyBf16(rows, 3, old);
      expect(blocks.length).toBe(3 * rows.stride);
      new Uint32Array(rows.words.buffer, 0, 3 * rows.stride).set(blocks);
      for (let r = 0; r < 3; r++) {
        for (let j = 0; j < W; j++) expect(rows.words[rows.at(r) + j]).toBe(0x3f800000 + r * 64 + j);
        for (let j = 0; j < W; j++) expect(rows.half[2 * (rows.at(r) + W) + j]).toBe(0x3f00 + r * 32 + j);
        expect(rows.lastStep(r)).toBe(1000 + r);
        expect(rows.updates(r)).toBe([5, 0xffff, 0][r]);
      }
    }
  });
});
