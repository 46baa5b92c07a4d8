/** A new embedding row's deterministic initial values, derived from its id. @module */
import type { RowStore } from './row-store.ts';

/**
 * Sets row `row`'s weights from id (hi, lo): column 0 (the linear weight) 0, columns 1..W-1
 * N(0, initStd^2)-like (a sum of 4 uniforms, Irwin-Hall, scaled to unit variance: cheap and
 * smooth enough for init), the same values for the same id on every run and machine.
 */
export function initRow(rows: RowStore, row: number, hi: number, lo: number, initStd: number): void {
  const o = rows.at(row),
    w = rows.dataOf(row);
  let s = (hi ^ Math.imul(lo, 0x85ebca6b) ^ 0x2545f491) >>> 0;
  w[o] = 0;
  for (let j = 1; j < rows.width; j++) {
    let u = 0;
    for (let k = 0; k < 4; k++) {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = Math.imul(s ^ (s >>> 15), s | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      u += ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    }
    w[o + j] = (u - 2) * Math.sqrt(3) * initStd;
  }
}
