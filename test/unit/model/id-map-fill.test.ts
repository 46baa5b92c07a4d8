import { describe, expect, it } from 'vitest';
import { fillIdMap } from '../../../src/model/id-map-fill.ts';
import { type MemoryHost, RowStore } from '../../../src/model/row-store.ts';

/**
 * The growth path of a table (issue "The embedding store at production scale": growth without
 * a long pause): the id map rebuilt region by region (id-map-fill.ts) and a WebAssembly-hosted
 * RowStore that zeroes only the words its memory had after the rows, not the pages it grew by.
 */
const home = (hi: number, lo: number, mask: number): number => (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;

describe('fillIdMap', () => {
  it('holds every row, each reachable from its home without an empty slot, as plain insertion does', () => {
    const n = 300_000,
      mapCap = 1 << 20, // 4 regions of 2^18 entries
      mask = mapCap - 1,
      tagMask = ~mask;
    const hi = new Uint32Array(n),
      lo = new Uint32Array(n);
    let s = 0x9e3779b9;
    const next = () => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return s >>> 0;
    };
    for (let r = 0; r < n; r++) {
      hi[r] = next();
      // 1% of the ids home into the last 64 entries (a probe chain that runs off the end of
      // the map and wraps into region 0), the rest uniformly
      const h = r % 100 === 0 ? mask - (r % 64) : next() & mask;
      lo[r] = (h ^ Math.imul(hi[r], 0x9e3779b1)) & mask;
      lo[r] = (lo[r] | (next() & tagMask)) >>> 0;
    }
    const map = new Uint32Array(mapCap),
      ids = new Uint32Array(2 * n); // the table's layout: hi at 2 r, lo at 2 r + 1
    for (let r = 0; r < n; r++) [ids[2 * r], ids[2 * r + 1]] = [hi[r], lo[r]];
    fillIdMap(map, mask, tagMask, ids, n);
    const plain = new Uint32Array(mapCap);
    for (let r = 0; r < n; r++) {
      let p = home(hi[r], lo[r], mask);
      while (plain[p] !== 0) p = (p + 1) & mask;
      plain[p] = ((hi[r] & tagMask) | (r + 1)) >>> 0;
    }
    expect(map.filter((e) => e !== 0).sort()).toEqual(plain.filter((e) => e !== 0).sort()); // numeric sorts
    let unreachable = 0;
    for (let r = 0; r < n; r++) {
      let p = home(hi[r], lo[r], mask);
      while (map[p] !== 0 && (map[p] & mask) !== r + 1) p = (p + 1) & mask;
      if (map[p] !== ((hi[r] & tagMask) | (r + 1)) >>> 0) unreachable++;
    }
    expect(unreachable).toBe(0);
  });
});

describe('RowStore.grow in a WebAssembly memory', () => {
  it("zeroes the new rows where the host's scratch was, and the pages the memory grew by are zero", () => {
    const host: MemoryHost = {
      maxBytes: 2 ** 30,
      holds: (bytes) => bytes <= 2 ** 30,
      create: (bytes) => new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) }),
    };
    const rows = new RowStore(17, 1000, 'bfloat16');
    rows.moveToMemory(host.create(rows.bytes)!, host);
    expect(rows.reserve(rows.bytes + 200_000)).toBe(true); // the host's scratch after the rows
    const had = rows.memory!.buffer.byteLength;
    new Uint8Array(rows.memory!.buffer, rows.bytes, had - rows.bytes).fill(0xab);
    rows.data.fill(1, 0, 1000 * rows.stride);
    rows.grow(20_000); // in place: past the scratch into pages the memory grows by
    expect(rows.memory!.buffer.byteLength).toBeGreaterThan(had);
    expect(rows.data.subarray(0, 1000 * rows.stride).every((x) => x === 1)).toBe(true);
    expect(rows.words.subarray(1000 * rows.stride).every((x) => x === 0)).toBe(true);
  });

  it.runIf(process.platform === 'linux')('does not touch the pages the memory grows by (RSS stays)', () => {
    const host: MemoryHost = {
      maxBytes: 2 ** 31,
      holds: (bytes) => bytes <= 2 ** 31,
      create: (bytes) => new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) }),
    };
    const rows = new RowStore(17, 1000, 'bfloat16');
    rows.moveToMemory(host.create(rows.bytes)!, host);
    const before = process.memoryUsage().rss;
    rows.grow(Math.floor(2 ** 29 / (4 * rows.stride))); // 512 MiB of rows, in place
    const grew = process.memoryUsage().rss - before;
    expect(rows.bytes).toBeGreaterThan(2 ** 29 - 4096);
    expect(grew).toBeLessThan(2 ** 27); // zeroing them all would add 512 MiB
  });
});
