import * as tf from '@tensorflow/tfjs-core';
import type { TrainStep } from './train-step.ts';

/**
 * Everything a training step depends on, as plain typed arrays (copies): the tower
 * variables and their Lion momentum, the step counter, and per table the rows in use
 * (ids, values, momentum in its stored dtype, last step, update count). A checkpoint writes
 * this as is; restoring it into a fresh model with the same config and continuing gives
 * the same weights bit for bit as an uninterrupted run.
 */
export interface TrainState {
  step: number;
  tower: Float32Array[];
  towerMomentum: Float32Array[];
  denseLionStep: number;
  tables: {
    slot: string;
    size: number;
    rowHi: Uint32Array;
    rowLo: Uint32Array;
    weights: Float32Array;
    momentum: Float32Array | Uint16Array;
    lastStep: Int32Array;
    updates: Int32Array;
  }[];
}

/** Copies the state of a TrainStep (its model included). */
export async function captureState(ts: TrainStep): Promise<TrainState> {
  const dense = await ts.denseLion.getState();
  return {
    step: ts.step,
    tower: await Promise.all(ts.model.tower.vars.map(async (v) => (await v.data() as Float32Array).slice())),
    towerMomentum: dense.momentum.map((m) => m.slice()),
    denseLionStep: dense.step,
    tables: ts.model.tables.map((t) => ({
      slot: t.slot, size: t.size,
      rowHi: t.rowHi.slice(0, t.size), rowLo: t.rowLo.slice(0, t.size),
      weights: t.weights.slice(0, t.size * t.width), momentum: t.momentum.slice(0, t.size * t.width),
      lastStep: t.lastStep.slice(0, t.size), updates: t.updates.slice(0, t.size),
    })),
  };
}

/**
 * Restores a captured state into a TrainStep whose model is freshly built with the same
 * schema and config (tables empty).
 * @throws Error when slots, widths or momentum dtypes do not match, or a table is not empty.
 */
export function restoreState(ts: TrainStep, s: TrainState): void {
  const m = ts.model;
  if (s.tables.length !== m.tables.length) throw new Error(`state has ${s.tables.length} tables, model ${m.tables.length}`);
  s.tower.forEach((v, i) => tf.tidy(() => m.tower.vars[i].assign(tf.tensor(v, m.tower.vars[i].shape))));
  ts.denseLion.setState({ step: s.denseLionStep, momentum: s.towerMomentum });
  ts.step = s.step;
  s.tables.forEach((st, f) => {
    const t = m.tables[f], W = t.width;
    if (st.slot !== t.slot) throw new Error(`table ${f} is "${st.slot}" in the state, "${t.slot}" in the model`);
    if (t.size !== 0) throw new Error(`table "${t.slot}" is not empty`);
    if ((st.momentum instanceof Uint16Array) !== (t.momentum instanceof Uint16Array)) throw new Error(`table "${t.slot}": momentum dtype differs`);
    for (let r = 0; r < st.size; r++) {
      const row = t.put(st.rowHi[r], st.rowLo[r], st.weights.subarray(r * W, (r + 1) * W));
      if (row !== r) throw new Error(`table "${t.slot}": duplicate id in the state at row ${r}`);
    }
    t.momentum.set(st.momentum, 0);
    t.lastStep.set(st.lastStep, 0);
    t.updates.set(st.updates, 0);
  });
}

