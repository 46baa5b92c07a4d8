/**
 * Progressive figures per slice (src/train/evaluation/slice-keys.ts, issue 15): real Arrow batches
 * featurized as the trainer does; the first maxSlices values of a sliced slot seen get a slice each,
 * every later value goes to `other` (so a slot never has more than maxSlices + 1 series per scope);
 * each slice's window (its share of the last N examples) and lifetime equal an independent
 * re-derivation over that slice's examples (AUC within its bound, the rest to 1e-12); the metrics
 * carry scope, slot and slice labels.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { TrainEmitter } from '../../../src/events/train-events.ts';
import { Featurizer } from '../../../src/features/featurizer.ts';
import { rowsToRecordBatch } from '../../../src/ingest/arrow/record-batch-builder.ts';
import type { DecodedRow } from '../../../src/ingest/source.ts';
import { createTrainMetrics } from '../../../src/metrics/catalogue.ts';
import { observeTrainer } from '../../../src/metrics/train-observer.ts';
import { progressiveMetricsOf } from '../../../src/train/evaluation/progressive.ts';
import { progressOf } from '../../../src/train/progress-line.ts';
import { mulberry32 } from '../../helpers/prng.ts';
import { exactAuc, referenceFigures } from '../../helpers/scored-stream.ts';

const schema = { categorical: ['C1', 'C2'], numeric: ['I1'], embeddingDim: 4 };
const MAX = 5;
const W = 3000;
const N = 20_000;

/** C1: 30 values with skewed frequencies, nulls, and a raw value spelled `other`; C2: two values. */
function makeRows(): { rows: DecodedRow[]; pred: Float32Array } {
  const u = mulberry32(7);
  const rows: DecodedRow[] = [];
  const pred = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    const k = Math.floor(30 * u() ** 2);
    const c1 = i === 3 ? 'other' : k === 29 ? null : `v${k}`;
    const z = -2 + k / 15 + (u() - 0.5) * 3;
    const label = u() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    pred[i] = 1 / (1 + Math.exp(-(z + (u() - 0.5))));
    rows.push({ label, eventTimeMs: null, numeric: [k], categorical: [c1, k % 2 ? 'a' : 'b'] });
  }
  return { rows, pred };
}

describe('progressive slices', () => {
  const { rows, pred } = makeRows();
  const labels = Float32Array.from(rows, (r) => r.label);
  const pm = progressiveMetricsOf(W, { schema }, { slots: ['C1', 'C2'], maxSlices: MAX });
  const fz = new Featurizer(schema);
  for (let s = 0; s < N; s += 1000) {
    const rb = rowsToRecordBatch(schema, rows.slice(s, s + 1000), { offsets: new Float64Array(1000) });
    pm.addBatch(pred.subarray(s, s + 1000), fz.fromRecordBatch(rb), rb);
  }
  const slices = pm.slices();

  it('gives the first maxSlices values seen a slice each, and every later one `other`', () => {
    const firstSeen: string[] = [];
    for (const r of rows) {
      const v = r.categorical[0] === null ? 'missing' : r.categorical[0] === 'other' ? '"other"' : r.categorical[0];
      if (!firstSeen.includes(v)) firstSeen.push(v);
    }
    const c1 = slices.filter((s) => s.slot === 'C1').map((s) => s.slice);
    expect(c1).toEqual([...firstSeen.slice(0, MAX), 'other']);
    expect(c1).toContain('"other"'); // a raw value `other` never merges with the bucket
    expect(slices.filter((s) => s.slot === 'C2').map((s) => s.slice)).toEqual(['b', 'a']);
  });

  it("each slice's window and lifetime equal a re-derivation over its examples", () => {
    const nameOf = (r: DecodedRow, own: string[]) => {
      const v = r.categorical[0] === null ? 'missing' : r.categorical[0] === 'other' ? '"other"' : r.categorical[0];
      return own.includes(v) ? v : 'other';
    };
    const own = slices.filter((s) => s.slot === 'C1' && s.slice !== 'other').map((s) => s.slice);
    let windowTotal = 0;
    for (const s of slices.filter((x) => x.slot === 'C1')) {
      for (const [scope, from] of [
        ['window', N - W],
        ['lifetime', 0],
      ] as const) {
        const idx: number[] = [];
        for (let i = from; i < N; i++) if (nameOf(rows[i], own) === s.slice) idx.push(i);
        const p = idx.map((i) => pred[i]),
          y = idx.map((i) => labels[i]);
        const f = s[scope];
        expect(f.examples, `${s.slice} ${scope}`).toBe(idx.length);
        if (scope === 'window') windowTotal += f.examples;
        if (idx.length === 0 || !y.includes(1) || !y.includes(0)) {
          expect(Number.isNaN(f.auc), `${s.slice} ${scope}: one class, no AUC`).toBe(true);
          continue;
        }
        const ref = referenceFigures(p, y, 0, idx.length);
        expect(Math.abs(f.logloss - ref.logloss) / ref.logloss).toBeLessThan(1e-12);
        expect(Math.abs(f.calibration - ref.calibration) / ref.calibration).toBeLessThan(1e-12);
        expect(f.ctr).toBe(ref.ctr);
        expect(Math.abs(f.auc - exactAuc(p, y))).toBeLessThanOrEqual(f.aucErrorBound);
      }
    }
    expect(windowTotal).toBe(W);
  });

  it('rejects a slot that is not a categorical slot of the schema, or named twice', () => {
    for (const slots of [['I1'], ['C9'], ['C1', 'C1']])
      expect(() => progressiveMetricsOf(10, { schema }, { slots, maxSlices: 3 })).toThrow(
        expect.objectContaining({ code: 'LIONCTR_BAD_CONFIG' }),
      );
  });

  it('publishes the slices with scope, slot and slice labels, at most maxSlices + 1 per slot and scope', async () => {
    const m = createTrainMetrics();
    const ev: TrainEmitter = new EventEmitter();
    observeTrainer(ev, m);
    ev.emit('progress', progressOf(pm.figures(), 1, N, 100, pm.lifetime(), slices));
    const text = await m.registry.metrics();
    // examples are always defined: every slice once per scope; the AUC of a one-class slice is absent
    const series = text.split('\n').filter((l) => l.startsWith('lionctr_progressive_slice_examples{'));
    expect(series).toHaveLength(2 * (MAX + 1 + 2));
    expect(series.filter((l) => l.includes('scope="window",slot="C1"'))).toHaveLength(MAX + 1);
    const quotedOther = 'scope="lifetime",slot="C1",slice="\\"other\\""'; // prom-client escapes the quotes
    expect(text).toContain(`lionctr_progressive_slice_examples{${quotedOther}} 1`);
    expect(text).not.toContain(`lionctr_progressive_slice_auc{${quotedOther}}`);
    expect(text).toMatch(/^lionctr_progressive_slice_examples\{scope="lifetime",slot="C1",slice="other"\} \d+$/m);
    expect(text).toMatch(/^lionctr_progressive_auc_error_bound\{scope="window"\} \d/m);
    expect(text).toMatch(/^lionctr_progressive_examples\{scope="window"\} 3000$/m);
    expect(text).toMatch(/^lionctr_progressive_examples\{scope="lifetime"\} 20000$/m);
  });
});
