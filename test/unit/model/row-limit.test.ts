import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddingTable } from '../../../src/model/embedding-table.ts';
import { RowStore, rowViewLimits } from '../../../src/model/row-store.ts';

/**
 * One typed array holds at most 2^32 elements (V8), and a RowStore's views cover all its rows:
 * a table with bfloat16 momentum at dim 16 holds at most 76.7 million rows (its Uint16 view),
 * one with float32 momentum 119 million (it has no Uint16 view). Past that a table admits no
 * more ids (as at a memory budget's cap) instead of throwing a RangeError while growing. The
 * limit is lowered here to 2^16 elements, so that the tables stay small.
 */
describe('RowStore.maxRows: the typed-array limit', () => {
  const real = rowViewLimits.maxElements;
  afterEach(() => {
    rowViewLimits.maxElements = real;
  });

  it('at 2^32 elements: 76.7M rows at dim 16 with bfloat16 momentum, 119M with float32, 253M weights only', () => {
    expect(new RowStore(17, 1, 'bfloat16').maxRows).toBe(Math.floor(2 ** 32 / 56));
    expect(new RowStore(17, 1, 'float32').maxRows).toBe(Math.floor(2 ** 32 / 36));
    expect(new RowStore(17, 1, 'none').maxRows).toBe(Math.floor(2 ** 32 / 17));
    expect(new RowStore(17, 4, 'float32').half.length).toBe(0); // only bfloat16 momentum reads it
  });

  it('a table stops admitting at maxRows (findOrAdmit -1), keeping every admitted id', () => {
    rowViewLimits.maxElements = 2 ** 16;
    for (const dtype of ['bfloat16', 'float32'] as const) {
      const t = new EmbeddingTable('C1', 16, { momentumDtype: dtype, initialCapacity: 256 });
      const max = t.rows.maxRows; // 1170 rows (bfloat16: 28 words a row, 2 halves a word), 1820 (float32)
      expect(max).toBe(dtype === 'bfloat16' ? 1170 : 1820);
      const got: number[] = [];
      for (let i = 0; i < max + 100; i++) got.push(t.findOrAdmit(i, i * 7 + 1));
      expect(got.slice(0, max)).toEqual([...Array(max).keys()]);
      expect(got.slice(max).every((r) => r === -1)).toBe(true);
      expect(t.size).toBe(max);
      expect(t.capacity).toBe(max);
      for (let i = 0; i < max; i++) expect(t.find(i, i * 7 + 1)).toBe(i);
      expect(() => t.rows.grow(max + 1)).toThrow(/over the 1\d+ one typed array holds/);
    }
  });
});
