/** TTL eviction (src/model/eviction.ts) through CtrModel.gather: the clock, sweeps, moved rows, readmission. */
import { beforeAll, describe, expect, it } from 'vitest';
import { Featurizer } from '../../../src/features/featurizer.ts';
import { selectBackend } from '../../../src/model/backend.ts';
import { CtrModel } from '../../../src/model/ctr-model.ts';
import { EmbeddingTable } from '../../../src/model/embedding-table.ts';

beforeAll(async () => {
  await selectBackend('auto');
});

describe('TTL eviction', () => {
  const schema = { numeric: [], categorical: ['C1'], embeddingDim: 3 };
  const fz = new Featurizer(schema);
  const batch = (ids: string[], sec: number) => {
    const b = fz.fromInstances(ids.map((C1) => ({ C1 })));
    b.eventTimeMs.fill(sec * 1000);
    return b;
  };
  const idOf = (v: string) => {
    const b = fz.fromInstances([{ C1: v }]);
    return [b.idHi[0], b.idLo[0]] as const;
  };

  it('rows not seen for ttlSeconds of event time go at the next sweep; the others stay, with their times', () => {
    const model = new CtrModel(schema, {
      hidden: [2],
      initStd: 0.1,
      seed: 1,
      eviction: { ttlSeconds: 100, sweepSeconds: 10 },
    });
    const t = model.tables[0],
      ev = model.eviction;
    const gone: string[] = [];
    ev.onEvict.push((slot, hi, lo) => gone.push(`${slot}:${hi}:${lo}`));
    model.gather(batch(['a', 'b', 'c', 'd'], 1000), true);
    model.gather(batch(['a', 'd'], 1050), true);
    const noTime = batch(['e'], 0);
    noTime.eventTimeMs.fill(NaN);
    model.gather(noTime, true); // no event time: the clock stays, e is seen at 1050
    expect(ev.nowSec).toBe(1050);
    model.gather(batch(['x'], 1090), true); // swept at 1090: nothing older than 100 s
    expect(t.size).toBe(6);
    model.gather(batch(['x'], 1101), true); // swept: b and c (seen at 1000) go
    expect(t.size).toBe(4);
    expect(ev.evicted[0]).toBe(2);
    const [bh, bl] = idOf('b'),
      [ch, cl] = idOf('c');
    expect(t.find(bh, bl)).toBe(-1);
    expect(t.find(ch, cl)).toBe(-1);
    expect(gone.sort()).toEqual([`C1:${bh}:${bl}`, `C1:${ch}:${cl}`].sort());
    // the rows that moved into freed indices keep their own times
    const want: Record<string, number> = { a: 1050, d: 1050, e: 1050, x: 1101 };
    for (const [v, sec] of Object.entries(want)) {
      const r = t.find(...idOf(v));
      expect(r, v).toBeGreaterThanOrEqual(0);
      expect(ev.lastSeen[0][r], v).toBe(sec);
    }
    // a readmitted id starts afresh: the initial values of its id
    const r = t.findOrAdmit(bh, bl);
    const fresh = new EmbeddingTable('C1', 3, { initStd: 0.1 });
    const r0 = fresh.findOrAdmit(bh, bl);
    const row = (tb: EmbeddingTable, i: number) => [
      ...tb.rows.data.subarray(tb.rows.weightsAt(i), tb.rows.weightsAt(i) + 4),
    ];
    expect(row(t, r)).toEqual(row(fresh, r0));
    expect(model.tableStats()[0].evicted).toBe(2);
    model.dispose();
  });

  it('off by default: no times kept, nothing swept', () => {
    const model = new CtrModel(schema, { hidden: [2], initStd: 0.1, seed: 1 });
    model.gather(batch(['a'], 1000), true);
    model.gather(batch(['b'], 999_999), true);
    expect(model.tables[0].size).toBe(2);
    expect(model.eviction.bytes(0)).toBe(0);
    model.dispose();
  });
});
