import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddingTable } from '../../../src/model/embedding-table.ts';
import { RowStore, rowViewLimits } from '../../../src/model/row-store.ts';

/**
 * One typed array holds at most 2^32 elements (V8). A RowStore used to have one set of views
 * over all its rows, so a table with bfloat16 momentum at dim 16 held at most 76.7 million
 * rows (its Uint16 view) and stopped admitting there. Now the rows lie in chunks, each with
 * views of its own (issue 12): the limit bounds a chunk, not the table. The limits are
 * lowered here (2^16 elements: the old single-view limit was 1170 rows at dim 16 bf16;
 * chunks of at most 2^8 rows), so that the tables stay small.
 */
describe('RowStore chunks: no single typed array bounds a table', () => {
  const real = { ...rowViewLimits };
  afterEach(() => {
    Object.assign(rowViewLimits, real);
  });

  it('at 2^32 elements: chunks of 2^20 rows at dim 16; a chunk holds fewer rows when its views would not fit', () => {
    expect(new RowStore(17, 1, 'bfloat16').chunkRows).toBe(2 ** 20);
    expect(new RowStore(17, 4, 'float32').chunks[0].half.length).toBe(0); // only bfloat16 momentum reads it
    rowViewLimits.maxElements = 2 ** 16;
    expect(new RowStore(17, 1, 'bfloat16').chunkRows).toBe(1024); // 2^16 / 56 = 1170 halves-rows: 1024
    expect(new RowStore(17, 1, 'float32').chunkRows).toBe(1024); // 2^16 / 36 = 1820
    expect(new RowStore(17, 1, 'none').chunkRows).toBe(2048); // 2^16 / 17 = 3855
  });

  it('a table holds 6x the old single-view limit, ids found, values kept; growth copies no full chunk', () => {
    rowViewLimits.maxElements = 2 ** 16; // old limit: 1170 rows (bf16, dim 16), 1820 (float32)
    rowViewLimits.chunkRowsLog2 = 8;
    for (const dtype of ['bfloat16', 'float32'] as const) {
      const t = new EmbeddingTable('C1', 16, { momentumDtype: dtype, initialCapacity: 100 });
      const n = 7000;
      const kept: Float32Array[] = [];
      for (let i = 0; i < n; i++) {
        expect(t.findOrAdmit(i, i * 7 + 1)).toBe(i);
        t.rows.markUpdated(i, i);
        if (i === 600) kept.push(...t.rows.chunks.slice(0, 3).map((c) => c.data)); // capacity 800: 3 full chunks
      }
      expect(t.size).toBe(n);
      expect(t.rows.chunks.length).toBe(Math.ceil(t.capacity / 256));
      expect(t.rows.chunks.slice(0, -1).every((c) => c.rows === 256)).toBe(true);
      // the full chunks of row 600's time are the same arrays: never copied since
      for (let c = 0; c < 3; c++) expect(t.rows.chunks[c].data).toBe(kept[c]);
      for (let i = 0; i < n; i++) {
        expect(t.find(i, i * 7 + 1)).toBe(i);
        expect(t.rows.lastStep(i)).toBe(i);
      }
      // a row's values are where the accessor says, in its chunk (no row straddles two)
      const w = Float32Array.from({ length: 17 }, (_, j) => j - 8);
      t.rows.setWeights(5000, w);
      expect(t.rows.chunk(5000)).toBe(t.rows.chunks[Math.floor(5000 / 256)]);
      expect(t.rows.dataOf(5000).subarray(t.rows.at(5000), t.rows.at(5000) + 17)).toEqual(w);
      expect(t.rows.at(5000) + t.rows.stride).toBeLessThanOrEqual(t.rows.chunk(5000).data.length);
      // removing moves the last row across chunks
      const last = t.rows.getWeights(n - 1);
      expect(t.remove(3, 22)).toBe(true);
      expect(t.rows.getWeights(3)).toEqual(last);
      expect(t.rows.lastStep(3)).toBe(n - 1);
      expect(() => t.rows.data).toThrow(/no single view/);
    }
  });
});
