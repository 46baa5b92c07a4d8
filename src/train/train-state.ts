/**
 * Everything a training step depends on, as plain typed arrays (copies): the tower
 * variables and their Lion momentum, the step counter, and per table the rows in use
 * (ids, values, momentum in its stored dtype, last step, update count), its admission
 * sketch (src/model/admission.ts) and last-seen times (src/model/eviction.ts). A checkpoint writes
 * this as is; restoring it into a fresh model with the same config and continuing gives
 * the same weights bit for bit as an uninterrupted run.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LionctrError } from '../errors.ts';
import type { AdmissionGate } from '../model/admission.ts';
import { fromLegacyBf16, legacyBf16Stride, rowBlocks, setRowBlocks } from '../model/row-blocks.ts';
import { idHalf } from '../model/row-ids.ts';
import type { TrainStep } from './train-step.ts';

/** A TrainStep's state as plain typed arrays (see the module doc). */
export interface TrainState {
  step: number;
  tower: Float32Array[];
  towerMomentum: Float32Array[];
  denseLionStep: number;
  /** The eviction clock (src/model/eviction.ts), absent when eviction is off. */
  evictionClock?: { nowSec: number; lastSweepSec: number };
  tables: {
    slot: string;
    size: number;
    /**
     * Rows of capacity the table had (absent in checkpoints before it was kept): restored as it was,
     * since the memory budget's decisions depend on it (src/model/row-budget.ts).
     */
    capacity?: number;
    rowHi: Uint32Array;
    rowLo: Uint32Array;
    dtype: 'float32' | 'bfloat16';
    stride: number;
    /** [size, stride] the row blocks (values, momentum, lastStep, updates; see RowStore) as raw 32-bit words. */
    blocks: Uint32Array;
    /** The slot's admission sketch counters (src/model/admission.ts), absent when it has none. */
    sketch?: Uint8Array;
    /** Sightings counted in the sketch since its last halving (with `sketch`). */
    sketchSightings?: number;
    /** [size] last-seen event time of each row, seconds (with evictionClock). */
    lastSeen?: Uint32Array;
  }[];
}

/** Copies the state of a TrainStep (its model included). */
export async function captureState(ts: TrainStep): Promise<TrainState> {
  const dense = await ts.denseLion.getState();
  const ev = ts.model.eviction;
  return {
    step: ts.step,
    tower: await Promise.all(ts.model.tower.vars.map(async (v) => ((await v.data()) as Float32Array).slice())),
    towerMomentum: dense.momentum.map((m) => m.slice()),
    denseLionStep: dense.step,
    ...(ev.active ? { evictionClock: { nowSec: ev.nowSec, lastSweepSec: ev.lastSweepSec } } : {}),
    tables: ts.model.tables.map((t, f) => ({
      slot: t.slot,
      size: t.size,
      capacity: t.capacity,
      // the table's interleaved ids as two arrays, the checkpoint's id_hi and id_lo
      rowHi: idHalf(t.ids, t.size, 0),
      rowLo: idHalf(t.ids, t.size, 1),
      dtype: t.rows.dtype,
      stride: t.rows.stride,
      // copied as integers: a float32 copy could canonicalize NaN bit patterns of the int32 words
      blocks: rowBlocks(t.rows, t.size),
      ...sketchState(ts.model.gates[f]),
      ...(ev.active ? { lastSeen: lastSeenOf(ev.lastSeen[f], t.size) } : {}),
    })),
  };
}

/**
 * Restores a captured state into a TrainStep whose model is freshly built with the same
 * schema and config (tables empty).
 * @throws LionctrError LIONCTR_BAD_CHECKPOINT when tables, slots, widths, momentum dtypes or tower
 *   sizes do not match, the state repeats an id, or an admission sketch differs in size;
 *   LIONCTR_INTERNAL when a table is not empty.
 */
export function restoreState(ts: TrainStep, s: TrainState): void {
  const m = ts.model;
  if (s.tables.length !== m.tables.length) {
    throw new LionctrError('LIONCTR_BAD_CHECKPOINT', `state has ${s.tables.length} tables, model ${m.tables.length}`);
  }
  const vars = m.tower.vars;
  if (s.tower.length !== vars.length || s.tower.some((v, i) => v.length !== vars[i].size)) {
    throw new LionctrError(
      'LIONCTR_BAD_CHECKPOINT',
      `state has tower variables of sizes [${s.tower.map((v) => v.length)}], model [${vars.map((v) => v.size)}]`,
    );
  }
  s.tower.forEach((v, i) => {
    tf.tidy(() => m.tower.vars[i].assign(tf.tensor(v, m.tower.vars[i].shape)));
  });
  ts.denseLion.setState({ step: s.denseLionStep, momentum: s.towerMomentum });
  ts.step = s.step;
  s.tables.forEach((st, f) => {
    const t = m.tables[f];
    if (st.slot !== t.slot) {
      const msg = `table ${f} is "${st.slot}" in the state, "${t.slot}" in the model`;
      throw new LionctrError('LIONCTR_BAD_CHECKPOINT', msg);
    }
    if (t.size !== 0) throw new LionctrError('LIONCTR_INTERNAL', `table "${t.slot}" is not empty`);
    // a bfloat16 checkpoint of before the update count moved into a half word: converted
    const legacy = st.dtype === 'bfloat16' && st.stride !== t.rows.stride && st.stride === legacyBf16Stride(t.width);
    if (st.dtype !== t.rows.dtype || (st.stride !== t.rows.stride && !legacy)) {
      const msg = `table "${t.slot}": row layout differs (momentum dtype or width)`;
      throw new LionctrError('LIONCTR_BAD_CHECKPOINT', msg);
    }
    if (st.capacity) t.growTo(st.capacity);
    for (let r = 0; r < st.size; r++) {
      const row = t.findOrAdmit(st.rowHi[r], st.rowLo[r]);
      if (row !== r) {
        throw new LionctrError('LIONCTR_BAD_CHECKPOINT', `table "${t.slot}": duplicate id in the state at row ${r}`);
      }
    }
    setRowBlocks(t.rows, st.size, legacy ? fromLegacyBf16(t.rows, st.size, st.blocks) : st.blocks);
    // a state without a sketch (admission was off) leaves the model's counters at zero
    if (st.sketch) m.gates[f].restore(st.sketch, st.sketchSightings ?? 0);
  });
  if (s.evictionClock)
    m.eviction.restore(
      s.evictionClock,
      s.tables.map((t) => t.lastSeen),
    );
}

/** A gate's sketch as TrainState fields: counters (a copy) and sightings, none when it has no sketch. */
function sketchState(g: AdmissionGate): { sketch?: Uint8Array; sketchSightings?: number } {
  return g.counts ? { sketch: g.counts.slice(), sketchSightings: g.sightings } : {};
}

/** A copy of the first `size` last-seen times (zeros past the array: rows never stamped). */
function lastSeenOf(ls: Uint32Array, size: number): Uint32Array {
  const out = new Uint32Array(size);
  out.set(ls.subarray(0, Math.min(size, ls.length)));
  return out;
}
