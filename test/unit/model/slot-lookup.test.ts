/**
 * lookupSlot (src/model/slot-lookup.ts) finds a slot's known ids in one EmbeddingTable.findMany,
 * then admits the missed ones in order: rows, admissions (row numbering), admission-gate counts
 * and refusals are those of the per-id loop it replaced (find, then the gate and findOrAdmit,
 * id by id), with ids repeated within the batch, a gate of min count 2 and a table full at its
 * capacity, for each mode.
 */
import { describe, expect, it } from 'vitest';
import { AdmissionGate, type AdmissionConfig } from '../../../src/model/admission.ts';
import { EmbeddingTable } from '../../../src/model/embedding-table.ts';
import { type LookupMode, lookupSlot } from '../../../src/model/slot-lookup.ts';

const GATE: AdmissionConfig = { minCount: 2, probability: 1, sketchBytes: 1 << 12 };

/** The per-id loop lookupSlot replaced (main before findMany). */
function reference(
  t: EmbeddingTable,
  gate: AdmissionGate,
  mode: LookupMode,
  hi: Uint32Array,
  lo: Uint32Array,
  F: number,
  f: number,
  B: number,
  rowIdx: Int32Array,
): number {
  let refused = 0;
  for (let k = f; k < B * F; k += F) {
    let r = t.find(hi[k], lo[k]);
    if (r < 0 && mode !== 'serve' && (mode === 'admit' || gate.admit(hi[k], lo[k], t.clock))) {
      r = t.findOrAdmit(hi[k], lo[k]);
      if (r < 0) refused++;
    }
    rowIdx[k] = r;
  }
  return refused;
}

/** A table of `known` rows, capped at `cap` rows, and a gate, built the same way each time. */
function setup(known: number, cap: number): { t: EmbeddingTable; gate: AdmissionGate } {
  const t = new EmbeddingTable('C1', 2, { momentumDtype: 'none', initialCapacity: 16 });
  for (let i = 0; i < known; i++) t.findOrAdmit(i * 7 + 1, Math.imul(i, 0x9e3779b1) >>> 0);
  t.maxCapacity = cap;
  return { t, gate: new AdmissionGate('C1', GATE, 42) };
}

/** [B, F] ids: known ones, new ones drawn from a small pool (so they repeat within the batch). */
function batch(known: number, B: number, F: number, seed: number): { hi: Uint32Array; lo: Uint32Array } {
  const hi = new Uint32Array(B * F),
    lo = new Uint32Array(B * F);
  let s = seed;
  for (let k = 0; k < B * F; k++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const i = s % (2 * known); // half known, half new (ids i >= known: not in the table)
    [hi[k], lo[k]] = [i * 7 + 1, Math.imul(i, 0x9e3779b1) >>> 0];
  }
  return { hi, lo };
}

describe('lookupSlot', () => {
  for (const mode of ['serve', 'admit', 'gated'] as LookupMode[]) {
    it(`${mode}: the rows, admissions, gate counts and refusals of find() id by id`, () => {
      const known = 60_000, // a map of 2^17 entries: found in passes (id-map-batch.ts)
        B = 2048,
        F = 3,
        cap = known + 1500; // full within the batches: later new ids are refused
      const a = setup(known, cap),
        b = setup(known, cap);
      let refusedA = 0,
        refusedB = 0;
      for (let step = 0; step < 3; step++) {
        const q = batch(known, B, F, 7 + step),
          rowsA = new Int32Array(B * F).fill(-5),
          rowsB = new Int32Array(B * F).fill(-5);
        for (let f = 0; f < F; f++) {
          refusedA += lookupSlot(a.t, a.gate, mode, q.hi, q.lo, F, f, B, rowsA);
          refusedB += reference(b.t, b.gate, mode, q.hi, q.lo, F, f, B, rowsB);
        }
        expect(rowsA).toEqual(rowsB);
      }
      expect(refusedA).toBe(refusedB);
      expect(a.t.size).toBe(b.t.size);
      expect(a.t.ids.slice(0, 2 * a.t.size)).toEqual(b.t.ids.slice(0, 2 * b.t.size));
      expect([a.gate.admitted, a.gate.rejected, a.gate.sightings]).toEqual([
        b.gate.admitted,
        b.gate.rejected,
        b.gate.sightings,
      ]);
      if (mode !== 'serve') expect(a.t.size).toBeGreaterThan(known);
      if (mode === 'admit') expect(refusedA).toBeGreaterThan(0);
      if (mode === 'gated') expect(a.gate.rejected).toBeGreaterThan(0);
    });
  }
});
