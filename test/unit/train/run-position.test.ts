import { describe, expect, it } from 'vitest';
import { type PositionMeta, RunPosition, type TrainedRows } from '../../../src/train/run-position.ts';

/** Rows of `partitions`/`offsets` with event times `times` (NaN = unknown). */
const rows = (partitions: number[], offsets: number[], times: number[] = partitions.map(() => NaN)): TrainedRows => ({
  size: partitions.length,
  partitions: Int32Array.from(partitions),
  offsets: Float64Array.from(offsets),
  eventTimeMs: Float64Array.from(times),
});

/** Checkpoint metadata of a run position (no watermark unless given). */
const positionMeta = (
  examples: number,
  sourceOffsets: Record<string, number>,
  pass: number,
  passExamples: number,
  watermarkMs: number | null = null,
): PositionMeta => ({ examples, sourceOffsets, pass, passExamples, watermarkMs });

describe('RunPosition', () => {
  it("accounts a batch: examples, the next offset after each partition's last row, the newest known event time", () => {
    const p = new RunPosition();
    p.account('kafka:clicks', rows([0, 1, 0, 1], [10, 5, 11, 6], [1000, NaN, 3000, 2000]));
    expect(p.examples).toBe(4);
    expect(p.passExamples).toBe(4);
    expect(p.offsets()).toEqual({ 'kafka:clicks/0': 12, 'kafka:clicks/1': 7 });
    expect(p.watermarkMs).toBe(3000);
    // an older event time does not lower the watermark; unknown times leave it alone
    p.account('kafka:clicks', rows([0], [12], [500]));
    expect(p.watermarkMs).toBe(3000);
    // a partition started over (a recreated topic) may go down
    p.account('kafka:clicks', rows([1], [0]));
    expect(p.offsets()['kafka:clicks/1']).toBe(1);
    expect(p.examples).toBe(6);
  });

  it('starts with no watermark until a row has an event time', () => {
    const p = new RunPosition();
    p.account('s', rows([0, 0], [0, 1]));
    expect(p.watermarkMs).toBeNull();
  });

  it('goes to and from checkpoint metadata, copying the offsets', () => {
    const meta = positionMeta(1500, { 'file:/x/0': 701 }, 1, 700, 42);
    const p = RunPosition.fromCheckpoint(meta);
    expect(p.toMeta()).toEqual(meta);
    p.account('file:/x', rows([0], [701]));
    expect(meta.sourceOffsets).toEqual({ 'file:/x/0': 701 }); // the checkpoint's object is not changed
    const m = p.toMeta();
    m.sourceOffsets['file:/x/0'] = -1;
    expect(p.offsets()['file:/x/0']).toBe(702); // nor is the position by the copy it handed out
    expect(p.toMeta()).toEqual(positionMeta(1501, { 'file:/x/0': 702 }, 1, 701, 42));
  });

  it('resumes inside a pass that had started, from its beginning otherwise', () => {
    const inside = RunPosition.fromCheckpoint(positionMeta(900, { 'f/0': 301 }, 1, 300));
    expect(inside.resumePoint()).toEqual({ nextOffsets: { 'f/0': 301 }, passExamples: 300 });
    const between = RunPosition.fromCheckpoint(positionMeta(600, { 'f/0': 601 }, 1, 0));
    expect(between.resumePoint()).toBeNull();
  });

  it("a new pass clears its source's offsets (only those) and its example count; a resumed one keeps them", () => {
    const meta = positionMeta(10, { 'f/0': 5, 'f/1': 6, 'f2/0': 7 }, 0, 10);
    const fresh = RunPosition.fromCheckpoint(meta);
    fresh.beginPass(1, 'f', false);
    expect(fresh.offsets()).toEqual({ 'f2/0': 7 }); // 'f2/0' is another source's, not f's
    expect(fresh.passExamples).toBe(0);
    expect(fresh.pass).toBe(1);
    expect(fresh.examples).toBe(10);
    const resumed = RunPosition.fromCheckpoint(meta);
    resumed.beginPass(0, 'f', true);
    expect(resumed.offsets()).toEqual(meta.sourceOffsets);
    expect(resumed.passExamples).toBe(10);
  });

  it('a finished pass moves to the next (offsets start over), except after the last one (kept for the record)', () => {
    const p = new RunPosition();
    p.beginPass(0, 'f', false);
    p.account('f', rows([0, 0], [0, 1]));
    p.endPass(0, 2, 'f');
    expect(p.toMeta()).toEqual(positionMeta(2, {}, 1, 0));
    p.beginPass(1, 'f', false);
    p.account('f', rows([0, 0], [0, 1]));
    p.endPass(1, 2, 'f');
    expect(p.toMeta()).toEqual(positionMeta(4, { 'f/0': 2 }, 2, 0));
    expect(p.resumePoint()).toBeNull();
  });
});
