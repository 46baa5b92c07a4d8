import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  emitTrainEventMessage,
  relayTrainEvents,
  TRAIN_EVENT_NAMES,
  type TrainEmitter,
  type TrainEventMessage,
  type QualityFigures,
  type TrainEvents,
} from '../../../src/events/train-events.ts';

/** Figures of one progressive scope. */
const FIGURES: QualityFigures = {
  auc: 0.7,
  aucErrorBound: 0.0004,
  logloss: 0.5,
  ne: 0.9,
  calibration: 1,
  ctr: 0.03,
  examples: 192,
  bayesLogloss: Number.NaN,
};

/** One payload per event of the table. */
const samples: TrainEvents = {
  ingest: { ok: 64, bad: { bad_json: 1 } },
  step: {
    step: 3,
    examples: 2,
    seconds: 0.01,
    loss: 0.69,
    watermarkMs: 1000,
    positions: { source: 'kafka:clicks', partitions: Int32Array.of(0, 1), offsets: Float64Array.of(7, 9) },
  },
  nonfinite: { step: 3, examples: 2, what: 'loss NaN', inARow: 1 },
  progress: {
    step: 3,
    examples: 192,
    examplesPerSecond: 10,
    auc: 0.7,
    logloss: 0.5,
    ne: 0.9,
    calibration: 1,
    window: 192,
    ctr: 0.03,
    aucErrorBound: 0.0004,
    lifetime: FIGURES,
    slices: [{ slot: 'C1', slice: 'other', window: FIGURES, lifetime: FIGURES }],
  },
  tables: { slots: [{ slot: 'C1', rows: 5, bytes: 320 }], watermarkMs: null },
  export: { version: '1700000000000', seconds: 0.1, bytes: 2048, watermarkMs: 1000 },
  gate: {
    version: '1700000000000',
    decision: 'refused',
    reasons: ['auc_drop'],
    examples: 4096,
    clicks: 120,
    candidate: { auc: 0.61, calibration: 1.1 },
    served: { auc: 0.72, calibration: 1 },
    snapshotBytes: 65536,
    seconds: 0.05,
  },
  published: { version: '1700000000000' },
  delta: {
    version: '1700000000001',
    base: '1700000000000',
    seq: 1,
    rows: 5,
    tombstones: 0,
    seconds: 0.01,
    bytes: 512,
    watermarkMs: 1000,
  },
  checkpoint: { step: 3, seconds: 0.2, bytes: 4096 },
  writeFailure: { kind: 'checkpoint', error: 'ENOSPC', reason: 'ENOSPC', inARow: 1, retryInSeconds: 1 },
  lag: [{ group: 'trainers', topic: 'clicks', partition: 0, lag: 12 }],
  backpressure: { pauses: 2 },
  offsetResets: [{ group: 'g', topic: 'clicks', partition: 0, resets: 1, skipped: 4 }],
};

describe('trainer events table and worker relay', () => {
  it('names every event of the table once', () => {
    expect([...TRAIN_EVENT_NAMES].sort()).toEqual(Object.keys(samples).sort());
    expect(new Set(TRAIN_EVENT_NAMES).size).toBe(TRAIN_EVENT_NAMES.length);
  });

  it(
    'relays every event across a (structured-clone) worker boundary with its payload; ' + 'step without its positions',
    () => {
      const trainer: TrainEmitter = new EventEmitter();
      const main: TrainEmitter = new EventEmitter();
      const got: Record<string, unknown> = {};
      for (const name of TRAIN_EVENT_NAMES)
        (main as EventEmitter).on(name, (p: unknown) => {
          got[name] = p;
        });
      const posted: TrainEventMessage[] = [];
      relayTrainEvents(trainer, (msg) => posted.push(structuredClone(msg)));
      for (const name of TRAIN_EVENT_NAMES) (trainer as EventEmitter).emit(name, samples[name]);
      expect(posted.map((m) => m.type)).toEqual(TRAIN_EVENT_NAMES);
      for (const msg of posted) expect(emitTrainEventMessage(main, msg)).toBe(true);
      const { positions: _, ...stepOnTheWire } = samples.step;
      expect(got).toEqual({ ...samples, step: stepOnTheWire });
      expect(samples.step.positions).toBeDefined(); // the trainer's own payload keeps them (the audit log reads them)
    },
  );
});
