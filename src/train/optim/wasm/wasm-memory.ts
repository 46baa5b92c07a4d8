/**
 * Which tables get a WebAssembly memory of their own for the SIMD sparse kernel
 * (sparse-kernel.ts), and how large it may be: the training kernel's policy, kept out of
 * the model's RowStore (which only knows that its rows may live in a memory whose
 * MemoryHost decides).
 *
 * A table's rows lie in chunks (RowStore); a chunk's memory holds its rows at byte 0, then
 * the kernel's scratch. A chunk stays in one while it fits in 4 GiB (wasm32) less
 * `SCRATCH_SLACK` (a chunk is at most 1 GiB: always, unless a test lowers the limit), else
 * it goes back to an ArrayBuffer (and the JS kernel). Each WebAssembly memory reserves about 10 GiB of address
 * space in V8 (guard regions), so tables that no kernel asks for (serving, the JS kernel)
 * never take one, at most `MAX_WASM_TABLES` live ones (chunks) are made per process, and none under
 * an address-space limit (ulimit -v).
 */
import { readFileSync } from 'node:fs';
import type { MemoryHost, RowStore } from '../../../model/row-store.ts';

/**
 * Limits of a table's WebAssembly memory. `maxBytes`: 4 GiB (wasm32); tests lower it to
 * try the fall-back to the JS kernel.
 */
export const wasmLimits = { maxBytes: 4 * 2 ** 30 };

/** WebAssembly page size (bytes). */
const PAGE = 65536;
/** Room kept for the kernel's scratch when choosing a WebAssembly memory (bytes). */
const SCRATCH_SLACK = 256 * 2 ** 20;
/** Most live WebAssembly table memories per process (V8 allows about 13,000 of ~10 GiB reservations). */
export const MAX_WASM_TABLES = 4096;
let liveWasmTables = 0;
const released = new FinalizationRegistry<null>(() => {
  liveWasmTables--;
});

/** A new memory of at least `bytes` (counted until collected), or null when V8 refuses. */
export function newWasmMemory(bytes: number): WebAssembly.Memory | null {
  if (wasmMemoryRefusal()) return null;
  try {
    const m = new WebAssembly.Memory({ initial: Math.ceil(Math.max(bytes, 1) / PAGE) });
    liveWasmTables++;
    released.register(m, null);
    return m;
  } catch {
    return null;
  }
}

/** The kernel's MemoryHost: rows stay in a memory while they leave `SCRATCH_SLACK` of `maxBytes`. */
const kernelHost: MemoryHost = {
  get maxBytes() {
    return wasmLimits.maxBytes;
  },
  holds: (bytes) => bytes + SCRATCH_SLACK <= wasmLimits.maxBytes,
  create: newWasmMemory,
};

/**
 * Moves chunk c of a table's rows into a WebAssembly memory of its own (for the SIMD kernel).
 * @returns null when done (or already there), else why not: the rows are over the 4 GiB
 *   of a WebAssembly memory, `MAX_WASM_TABLES` are live, the process has an address-space
 *   limit (ulimit -v), or V8 could not reserve the memory.
 */
export function useWasmMemory(rows: RowStore, c = 0): string | null {
  if (rows.chunks[c].memory) return null;
  const bytes = rows.rowsIn(c) * rows.stride * 4,
    max = wasmLimits.maxBytes;
  if (!kernelHost.holds(bytes)) {
    const gib = (b: number) => (b / 2 ** 30).toFixed(2);
    return (
      `its rows (${gib(bytes)} GiB) are over the ${gib(max - SCRATCH_SLACK)} GiB a WebAssembly memory holds` +
      ` for rows (${gib(max)} GiB less the kernel's scratch)`
    );
  }
  const refused = wasmMemoryRefusal();
  if (refused) return refused;
  const memory = newWasmMemory(bytes);
  if (!memory) return 'V8 could not reserve a WebAssembly memory';
  rows.moveToMemory(memory, kernelHost, c);
  return null;
}

let addressLimit: string | null | undefined;
/** Why no new WebAssembly table memory may be made now (ulimit -v, too many), or null. */
export function wasmMemoryRefusal(): string | null {
  if (addressLimit === undefined) {
    // ulimit -v: each memory reserves ~10 GiB of address space; a limited process would
    // run out of it for everything else
    addressLimit = null;
    try {
      const line = readFileSync('/proc/self/limits', 'utf8')
        .split('\n')
        .find((l) => l.startsWith('Max address space'));
      const soft = line?.slice('Max address space'.length).trim().split(/\s+/)[0];
      if (soft && soft !== 'unlimited') {
        addressLimit = `the process has an address-space limit (ulimit -v, ${soft} bytes)`;
      }
    } catch {
      /* not Linux: no such limit to read */
    }
  }
  if (addressLimit) return addressLimit;
  if (liveWasmTables >= MAX_WASM_TABLES) return `${MAX_WASM_TABLES} tables already have a WebAssembly memory`;
  return null;
}
