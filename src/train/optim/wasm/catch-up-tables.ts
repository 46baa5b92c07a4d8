/**
 * The wasm kernel's catch-up tables (sparse-kernel.ts): the closed form of the idle steps
 * in the lr schedule's constant tail, per parameter group, from lion-rule.ts (the JS
 * kernel's source of the catch-up), and which groups and schedules the tables can cover.
 */
import type { LionParams } from '../lion-config.ts';
import { constantCatchUp } from '../lion-rule.ts';
import type { LrFunction } from '../schedule.ts';
import type { SparseLionGroup, SparseMode } from '../sparse-lion.ts';

/** Entries per catch-up table (the kernel's TABLE). */
export const TABLE = 65536;
/** Bytes of one catch-up table: [TABLE, 4] float32. */
export const TABLE_BYTES = TABLE * 16;

/**
 * Fills the catch-up table of a group at byte `ptr` of `memory`: for k < 65536 idle steps,
 * float32 (M, A, Dr, 0) with M = beta2^k, A = a^k (a = 1 - lr wd) and the exact-mode drift
 * Dr = lr (1 - a^k) / (1 - a) (k lr when wd = 0; 0 when beta1 = 0 or mode is decayed), the
 * closed form of lion-rule.ts, lr being p.lr * catchUpMult (the tail's lr multiplier).
 * Refilled only when the group's settings change: `keys[which]` (which: 0 linear, 1
 * embedding) remembers the settings of the table's contents ('' = none yet). The table
 * ([TABLE, 4] f32, TABLE_BYTES) must lie inside the memory, else RangeError.
 */
export function fillCatchUpTable(
  memory: WebAssembly.Memory,
  keys: string[],
  which: number,
  ptr: number,
  p: LionParams,
  catchUpMult: number,
  mode: SparseMode,
): void {
  const lr = p.lr * catchUpMult,
    key = `${lr}/${p.beta1}/${p.beta2}/${p.weightDecay}/${mode}`;
  if (keys[which] === key) return;
  const t = new Float32Array(memory.buffer, ptr, 4 * TABLE);
  const drift = mode === 'exact' && p.beta1 > 0;
  for (let k = 0; k < TABLE; k++) {
    const f = constantCatchUp(p, lr, k);
    t[4 * k] = f[0];
    t[4 * k + 1] = f[1];
    t[4 * k + 2] = drift ? f[2] : 0;
  }
  keys[which] = key;
}

/**
 * Whether the wasm kernel runs a group's steps: lazy always; decayed and exact when the lr
 * is constant or turns constant (the catch-up tables hold the tail's closed form). Never throws.
 */
export function wasmKernelCovers(group: SparseLionGroup, lrAt: LrFunction): boolean {
  return (group.mode ?? 'lazy') === 'lazy' || Number.isFinite(lrAt.constantFrom ?? Infinity);
}
