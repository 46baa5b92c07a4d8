import { afterEach, describe, expect, it } from 'vitest';
import { RowStore } from '../../../../src/model/row-store.ts';
import { useWasmMemory, wasmLimits } from '../../../../src/train/optim/wasm/wasm-memory.ts';

// The training kernel's memory policy (wasm-memory.ts) over the model's RowStore: rows move
// into a WebAssembly memory with their values, grow in place while they leave the kernel's
// scratch room, and go back to an ArrayBuffer when they no longer do.
describe('wasm memory policy and RowStore', () => {
  const limit = wasmLimits.maxBytes;
  afterEach(() => {
    wasmLimits.maxBytes = limit;
  });
  const value = (i: number, j: number) => i + j / 16;
  const fill = (r: RowStore, n: number) => {
    for (let i = 0; i < n; i++)
      r.setWeights(
        i,
        Array.from({ length: r.width }, (_, j) => value(i, j)),
      );
  };
  const same = (r: RowStore, n: number) => {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < r.width; j++) if (r.data[r.weightsAt(i) + j] !== value(i, j)) return false;
    }
    return true;
  };

  it('useWasmMemory moves the rows (values kept) and binds them; growing keeps them in place, new rows zero', () => {
    const r = new RowStore(16, 100);
    fill(r, 100);
    r.markUpdated(7, 3);
    r.markUpdated(7, 4);
    expect(useWasmMemory(r)).toBeNull();
    const mem = r.memory;
    expect(mem).not.toBeNull();
    expect(useWasmMemory(r)).toBeNull(); // already there
    expect(same(r, 100)).toBe(true);
    expect(r.words[r.weightsAt(7) + r.metaOff]).toBe(4);
    expect(r.words[r.weightsAt(7) + r.metaOff + 1]).toBe(2); // updates counted
    // scratch after the rows, then grow over it: the new rows must read as zero
    expect(r.reserve(r.bytes + 4096)).toBe(true);
    new Uint8Array(mem!.buffer, r.bytes, 4096).fill(0xff);
    r.grow(200);
    expect(r.memory).toBe(mem);
    expect(same(r, 100)).toBe(true);
    expect(r.words.subarray(100 * r.stride, 200 * r.stride).every((w) => w === 0)).toBe(true);
  });

  it("rows that would not leave the kernel's scratch room stay in (or go back to) an ArrayBuffer, saying why", () => {
    // 257 MiB: 1 MiB for rows after the 256 MiB of scratch room; 10,000 rows of 136 B are 1.3 MiB
    wasmLimits.maxBytes = 257 * 2 ** 20;
    const big = new RowStore(16, 10_000);
    expect(useWasmMemory(big)).toBe(
      'its rows (0.00 GiB) are over the 0.00 GiB a WebAssembly memory holds for rows' +
        " (0.25 GiB less the kernel's scratch)",
    );
    expect(big.memory).toBeNull();
    expect(big.reserve(64)).toBe(false); // no memory to reserve in
    const r = new RowStore(16, 4000);
    fill(r, 4000);
    expect(useWasmMemory(r)).toBeNull();
    r.grow(8000); // 1.04 MiB: over the room
    expect(r.memory).toBeNull();
    expect(same(r, 4000)).toBe(true);
  });
});
