/**
 * A table's id arrays grow in place (src/model/row-ids.ts): growing keeps every id and the same
 * buffer (no new array, no copy of what is held), and a table grown to n rows holds at most a
 * 64th + 2^14 rows of spare capacity (grownCapacity), where doubling held up to n. A plain array
 * (a clone's, or a table's below 2^16 rows, which reserves nothing) still grows, by a copy.
 */
import { describe, expect, it } from 'vitest';
import { EmbeddingTable } from '../../../src/model/embedding-table.ts';
import { Eviction } from '../../../src/model/eviction.ts';
import { DOUBLE_BELOW, GROW_STEP, growIds, grownCapacity, newIds } from '../../../src/model/row-ids.ts';

/** Distinct, well-spread ids (as id-map-move.test.ts's). */
const id = (i: number): [number, number] => [
  Math.imul(i, 0x9e3779b1) >>> 0,
  Math.imul(i ^ 0x5bd1e995, 0x85ebca6b) >>> 0,
];

describe('row ids growing in place', () => {
  it('growIds keeps the ids in the same buffer; a plain array is copied', () => {
    const a = newIds(1 << 16);
    for (let i = 0; i < 1000; i++) a[i] = i * 7919;
    const b = growIds(a, 300_000);
    expect(b.buffer).toBe(a.buffer);
    expect(b.length).toBe(300_000);
    expect([...b.subarray(0, 1000)]).toEqual([...a.subarray(0, 1000)]);
    expect(b.subarray(1000).every((x) => x === 0)).toBe(true);
    const plain = Uint32Array.from(b.subarray(0, 10)),
      c = growIds(plain, 20);
    expect(c.buffer).not.toBe(plain.buffer);
    expect([...c]).toEqual([...plain, ...new Array(10).fill(0)]);
  });

  it('grownCapacity doubles below 2^16, then adds a 64th (at least 2^14), a multiple of 2^14', () => {
    expect(grownCapacity(1024)).toBe(2048);
    expect(grownCapacity(DOUBLE_BELOW)).toBe(DOUBLE_BELOW + GROW_STEP);
    expect(grownCapacity(2 ** 24)).toBe(2 ** 24 + 2 ** 18);
    expect(grownCapacity(10 ** 8) % GROW_STEP).toBe(0);
  });

  it('a table grown to 1.1e6 rows keeps its ids, its id buffers never replaced past 2^16 rows', () => {
    const t = new EmbeddingTable('C1', 0, { momentumDtype: 'none' });
    const n = 1_100_000;
    const buffers = new Set<ArrayBufferLike>();
    let grew = 0,
      wrong = 0,
      cap = t.capacity;
    for (let i = 0; i < n; i++) {
      if (t.findOrAdmit(...id(i)) !== i) wrong++;
      if (t.capacity !== cap) {
        cap = t.capacity;
        grew++;
        if (cap > DOUBLE_BELOW) buffers.add(t.ids.buffer); // a plain array below
      }
    }
    expect(wrong).toBe(0);
    expect(grew).toBeGreaterThan(20);
    expect(buffers.size).toBe(1);
    expect(t.capacity - t.size).toBeLessThan(n / 64 + GROW_STEP);
    for (let i = 0; i < n; i += 7) if (t.find(...id(i)) !== i) wrong++;
    expect(wrong).toBe(0);
  });

  it("eviction's last-seen times grow in place with the table: one buffer past 2^16 rows, times kept", () => {
    const t = new EmbeddingTable('C1', 0, { momentumDtype: 'none' });
    const ev = new Eviction([t], { ttlSeconds: 100, sweepSeconds: 10 });
    const buffers = new Set<ArrayBufferLike>();
    const rowIdx = new Int32Array(1);
    for (let i = 0; i < 300_000; i++) {
      rowIdx[0] = t.findOrAdmit(...id(i));
      ev.nowSec = i % 1000;
      ev.touch(0, rowIdx, 1);
      if (t.capacity > DOUBLE_BELOW) buffers.add(ev.lastSeen[0].buffer);
    }
    expect(ev.lastSeen[0].length).toBe(t.capacity);
    expect(buffers.size).toBe(1); // a copy into a new array at each growth: one buffer a growth
    let wrong = 0;
    for (let i = 0; i < 300_000; i += 13) if (ev.lastSeen[0][t.find(...id(i))] !== i % 1000) wrong++;
    expect(wrong).toBe(0);
  });
});
