import { describe, expect, it } from 'vitest';
import type { BatchGrads } from '../../../../src/train/optim/batch-grads.ts';
import type { SparseUpdate } from '../../../../src/train/optim/sparse-update.ts';
import { WasmFallback, type FallbackLog, type WasmLionUpdate } from '../../../../src/train/optim/wasm/wasm-update.ts';

// The fall-back wrapper: the wasm step while it works, the JS one for a step whose scratch
// did not fit, and the JS one for good once the table is refused a memory, with one log
// line per reason over all tables.
describe('WasmFallback (wasm -> JS per table)', () => {
  const g = {} as BatchGrads;
  /** A stand-in wasm step: succeeds, except at the steps in `skip` (scratch) and from `refuseAt` on (reason). */
  const fakeWasm = (refuseAt: number, why: string, skip: number[] = []) => {
    const w = {
      refused: null as string | null,
      calls: [] as number[],
      tryApply(_: BatchGrads, step: number): boolean {
        w.calls.push(step);
        if (step >= refuseAt) {
          w.refused = why;
          return false;
        }
        return !skip.includes(step);
      },
    };
    return w;
  };
  const fakeJs = () => {
    const j = {
      calls: [] as number[],
      apply(_: BatchGrads, step: number) {
        j.calls.push(step);
      },
    };
    return j;
  };

  it('runs JS from the refused step on, stops asking wasm, and logs each reason once over all tables', () => {
    const log: FallbackLog = { note: (m) => notes.push(m), said: new Set() };
    const notes: string[] = [];
    const wa = fakeWasm(2, 'reason one'),
      wb = fakeWasm(3, 'reason one'),
      wc = fakeWasm(4, 'reason two');
    const ja = fakeJs(),
      jb = fakeJs(),
      jc = fakeJs();
    const ups: SparseUpdate[] = [
      new WasmFallback(wa as unknown as WasmLionUpdate, ja, 'A', log),
      new WasmFallback(wb as unknown as WasmLionUpdate, jb, 'B', log),
      new WasmFallback(wc as unknown as WasmLionUpdate, jc, 'C', log),
    ];
    for (let s = 0; s < 6; s++) for (const u of ups) u.apply(g, s);
    expect(wa.calls).toEqual([0, 1, 2]);
    expect(ja.calls).toEqual([2, 3, 4, 5]);
    expect(jb.calls).toEqual([3, 4, 5]);
    expect(jc.calls).toEqual([4, 5]);
    const rest = ' (other tables falling back for this reason are not logged)';
    expect(notes).toEqual([
      `sparse step of slot A: js kernel from step 2 on, reason one${rest}`,
      `sparse step of slot C: js kernel from step 4 on, reason two${rest}`,
    ]);
    expect((ups[0] as WasmFallback).fellBack).toBe(true);
  });

  it('a step whose scratch does not fit runs on JS alone; the next one is wasm again, nothing logged', () => {
    const notes: string[] = [];
    const w = fakeWasm(Infinity, '', [1]),
      j = fakeJs();
    const u = new WasmFallback(w as unknown as WasmLionUpdate, j, 'A', { note: (m) => notes.push(m), said: new Set() });
    for (let s = 0; s < 3; s++) u.apply(g, s);
    expect(w.calls).toEqual([0, 1, 2]);
    expect(j.calls).toEqual([1]);
    expect(notes).toEqual([]);
    expect(u.fellBack).toBe(false);
  });
});
