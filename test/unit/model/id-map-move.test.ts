/**
 * The id map's doubling without a pause (issue 12, id-map-move.ts): when a table of 2^16
 * rows or more doubles its map, the old map stays readable and its entries move into the
 * new one a few at a time with each admitted row. Every id keeps its row throughout; new ids
 * get new rows, never a second row for an old id; a remove or a clone in the middle first
 * moves the rest.
 */
import { describe, expect, it } from 'vitest';
import { EmbeddingTable } from '../../../src/model/embedding-table.ts';
import { MOVES_PER_ADMIT } from '../../../src/model/id-map-move.ts';

const id = (i: number): [number, number] => [
  Math.imul(i, 0x9e3779b1) >>> 0,
  Math.imul(i ^ 0x5bd1e995, 0x85ebca6b) >>> 0,
];

describe('EmbeddingTable id map growth, moved with the admissions', () => {
  it('keeps every id at its row while the old map empties into the new one', () => {
    const n = 3 << 16; // 0.75 of 2^18: the map of n rows (MAX_LOAD) is full
    const t = new EmbeddingTable('C1', 2, { initialCapacity: n });
    expect(t.bytes).toBe(t.rows.bytes + 8 * n + 4 * 2 ** 18);
    for (let i = 0; i < n; i++) expect(t.findOrAdmit(...id(i))).toBe(i);
    expect(t.findOrAdmit(...id(n))).toBe(n); // capacity n -> n + 2^14 (row-ids.ts), map 2^18 -> 2^19 (past 0.75 full)
    expect(t.capacity).toBe(n + 2 ** 14);
    // the old map (2^18 entries) is still held: it was not rebuilt into the new one at once
    expect(t.bytes).toBe(t.rows.bytes + 8 * t.capacity + 4 * 2 ** 19 + 4 * 2 ** 18);
    for (let i = 0; i <= n; i += 97) expect(t.find(...id(i))).toBe(i);
    // admissions move MOVES_PER_ADMIT old positions each: 2^18 / 8 = 32768 of them
    const moves = 2 ** 18 / MOVES_PER_ADMIT;
    for (let i = n + 1; i < n + moves; i++) {
      expect(t.findOrAdmit(...id(i))).toBe(i);
      if (i % 4099 === 0) {
        for (let j = 0; j < i; j += 1009) expect(t.find(...id(j))).toBe(j);
        for (let j = 0; j < 64; j++) expect(t.find(...id(8 * n + j))).toBe(-1); // never admitted
      }
      expect(t.findOrAdmit(...id(i - n))).toBe(i - n); // an old id: its row, not a new one
    }
    expect(t.size).toBe(n + moves);
    expect(t.findOrAdmit(...id(n + moves))).toBe(n + moves); // the last move: the old map goes
    expect(t.bytes).toBe(t.rows.bytes + 8 * t.capacity + 4 * 2 ** 19);
    for (let i = 0; i <= n + moves; i++) if (t.find(...id(i)) !== i) expect(t.find(...id(i))).toBe(i);
    expect(t.find(...id(n + moves + 1))).toBe(-1);
  });

  it('a remove or a clone while the old map is emptying moves the rest first', () => {
    const n = 1 << 16;
    const t = new EmbeddingTable('C1', 2, { initialCapacity: n });
    for (let i = 0; i <= n + 10; i++) t.findOrAdmit(...id(i));
    const c = t.clone();
    for (let i = 0; i <= n + 10; i++) expect(c.find(...id(i))).toBe(i);
    expect(t.remove(...id(5))).toBe(true); // row n + 10 moves into row 5
    expect(t.find(...id(5))).toBe(-1);
    expect(t.find(...id(n + 10))).toBe(5);
    for (let i = 0; i < n + 10; i++) if (i !== 5) expect(t.find(...id(i))).toBe(i);
  });
});
