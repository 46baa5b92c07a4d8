/**
 * The changed-row sets of delta exports (src/train/row-changes.ts) against a plain Set:
 * marks, the rows admitted since the last clear, growth far past the first words, clear;
 * and the rows a real TrainStep reports through its rowListeners; rows removed from a table
 * (the last row moving into the freed index) keep their marks with their ids.
 */
import { describe, expect, it } from 'vitest';
import { EmbeddingTable } from '../../../src/model/embedding-table.ts';
import { ChangedRows, RowChanges } from '../../../src/train/row-changes.ts';
import type { TrainStep } from '../../../src/train/train-step.ts';
import { tinyTrainedModel } from '../../helpers/tiny-model.ts';
import { mulberry32 } from '../../helpers/prng.ts';

/** The reference: marked rows below `from` and every row in [from, size), ascending. */
const expected = (marked: Set<number>, from: number, size: number) =>
  [
    ...new Set([...[...marked].filter((r) => r < from), ...Array.from({ length: size - from }, (_, i) => from + i)]),
  ].sort((a, b) => a - b);

describe('ChangedRows', () => {
  it('lists the marked rows and the admitted ones, ascending, each once', () => {
    const rand = mulberry32(7);
    for (const [size0, size1, marks] of [
      [0, 100, 50],
      [37, 37, 10],
      [1000, 1300, 5000],
      [65, 20_000, 3000],
      [32, 64, 64],
    ]) {
      const c = new ChangedRows(size0);
      const ref = new Set<number>();
      for (let i = 0; i < marks; i++) {
        const r = Math.floor(rand() * size1);
        c.mark(r);
        ref.add(r);
      }
      expect(c.markedCount).toBe(ref.size);
      for (const r of ref) expect(c.has(r)).toBe(true);
      expect([...c.list(size1)]).toEqual(expected(ref, size0, size1));
    }
  });

  it('clear forgets the marks and makes the rows so far exported', () => {
    const c = new ChangedRows(10);
    for (const r of [0, 5, 31, 32, 33, 1_000_000]) c.mark(r);
    c.clear(1_000_001);
    expect(c.markedCount).toBe(0);
    expect(c.has(1_000_000)).toBe(false);
    expect([...c.list(1_000_001)]).toEqual([]);
    c.mark(31);
    c.mark(31);
    expect([...c.list(1_000_003)]).toEqual([31, 1_000_001, 1_000_002]);
  });

  it('a mark at or above admittedFrom is listed once (as admitted)', () => {
    const c = new ChangedRows(40);
    for (const r of [3, 39, 40, 41, 63, 64]) c.mark(r);
    expect([...c.list(70)]).toEqual([3, 39, ...Array.from({ length: 30 }, (_, i) => 40 + i)]);
  });
});

describe('RowChanges', () => {
  it('follows removals: the listed rows hold exactly the ids changed or admitted since the clear', () => {
    const rand = mulberry32(17);
    const table = new EmbeddingTable('C1', 4, { initialCapacity: 64 });
    const step = { model: { tables: [table] }, rowListeners: [] } as unknown as TrainStep;
    const key = (r: number) => `${table.idHi(r)}:${table.idLo(r)}`;
    for (let i = 0; i < 300; i++) table.findOrAdmit(i, i * 7);
    const ch = new RowChanges(step);
    const want = new Set<string>(); // ids changed or admitted since the last clear, removed ones out
    for (let round = 0; round < 6; round++) {
      for (let op = 0; op < 400; op++) {
        const x = rand();
        if (x < 0.4 && table.size > 0) {
          const r = Math.floor(rand() * table.size);
          step.rowListeners[0](Int32Array.of(r), 1);
          want.add(key(r));
        } else if (x < 0.6) {
          const id = Math.floor(rand() * 1000);
          if (table.find(id, id * 7) < 0) want.add(`${id}:${id * 7}`);
          table.findOrAdmit(id, id * 7);
        } else if (table.size > 0) {
          const r = Math.floor(rand() * table.size);
          want.delete(key(r));
          table.remove(table.idHi(r), table.idLo(r));
        }
      }
      const listed = [...ch.list()[0]];
      expect(new Set(listed.map(key)), `round ${round}`).toEqual(want);
      expect(new Set(listed).size).toBe(listed.length);
      if (round % 2 === 1) {
        ch.clear();
        want.clear();
      }
    }
  });

  it('records the [B, F] rows a TrainStep reports, per table', () => {
    const tables = [
      { size: 4, removeListeners: [] },
      { size: 4, removeListeners: [] },
    ];
    const step = { model: { tables }, rowListeners: [] } as unknown as TrainStep;
    const ch = new RowChanges(step);
    // 3 examples x 2 tables; -1 entries are skipped
    step.rowListeners[0](Int32Array.of(0, 3, 2, -1, 0, 1), 2);
    expect(ch.list().map((l) => [...l])).toEqual([
      [0, 2],
      [1, 3],
    ]);
    expect(ch.any).toBe(true);
    tables[1].size = 6; // two rows admitted
    expect(ch.list().map((l) => [...l])).toEqual([
      [0, 2],
      [1, 3, 4, 5],
    ]);
    ch.clear();
    expect(ch.any).toBe(false);
    expect(ch.list().map((l) => l.length)).toEqual([0, 0]);
  });

  it('on a real model: the rows of a trained batch, unique per table', async () => {
    const t = await tinyTrainedModel(1, 64);
    const ch = new RowChanges(t.step);
    const seen: Int32Array[] = [];
    t.step.rowListeners.push((rowIdx) => seen.push(rowIdx.slice()));
    const { createSyntheticSource } = await import('../../../src/ingest/synthetic-source.ts');
    for await (const rb of createSyntheticSource({ seed: 5, limit: 64 }).batches({ batchSize: 64 }))
      t.step.run(t.featurizer.fromRecordBatch(rb));
    const F = t.model.tables.length;
    const lists = ch.list();
    for (let f = 0; f < F; f++) {
      const want = new Set<number>();
      for (let i = f; i < seen[0].length; i += F) want.add(seen[0][i]);
      expect([...lists[f]], t.model.slots[f]).toEqual([...want].sort((a, b) => a - b));
    }
  });
});
