import { describe, expect, it } from 'vitest';
import type { Progress, QualityFigures } from '../../../src/events/train-events.ts';
import { exportFigures, formatProgressLine, progressOf } from '../../../src/train/progress-line.ts';

const lifetime: QualityFigures = {
  auc: 0.69,
  aucErrorBound: 0.0003,
  logloss: 0.46,
  ne: 0.92,
  calibration: 1.01,
  ctr: 0.2,
  examples: 3072,
  bayesLogloss: Number.NaN,
};

const base: Progress = {
  step: 12,
  examples: 3072,
  examplesPerSecond: 1234.56,
  auc: 0.712345,
  logloss: 0.456789,
  ne: 0.912345,
  calibration: 1.02345,
  window: 3072,
  ctr: 0.2,
  aucErrorBound: 0.0003,
  lifetime,
  slices: [],
};

describe('progress line', () => {
  it('formats step, examples, rate (rounded), window and figures (4 decimals, calibration 3)', () => {
    expect(formatProgressLine(base)).toBe(
      'step 12 | 3072 ex | 1235 ex/s | progressive(3072) AUC 0.7123 logloss 0.4568 NE 0.9123 calib 1.023',
    );
  });

  it('writes - for undefined figures (AUC of one class is NaN) and adds the Bayes part when known', () => {
    expect(formatProgressLine({ ...base, auc: NaN, calibration: NaN })).toContain(
      'AUC - logloss 0.4568 NE 0.9123 calib -',
    );
    const line = formatProgressLine({ ...base, bayesLogloss: 0.41, gainCaptured: 0.87654 });
    expect(line.endsWith('calib 1.023 | bayes logloss 0.4100 gain 0.877')).toBe(true);
  });

  it('computes the gain captured from the window figures: (LL_base - LL) / (LL_base - LL_bayes)', () => {
    const f = { ...lifetime, auc: 0.7, logloss: 0.45, ne: 0.9, calibration: 1, examples: 100, window: 100 };
    const p = progressOf({ ...f, bayesLogloss: 0.4 }, 3, 300, 50, lifetime);
    const llBase = 0.45 / 0.9;
    expect(p).toMatchObject({
      step: 3,
      examples: 300,
      examplesPerSecond: 50,
      auc: 0.7,
      window: 100,
      bayesLogloss: 0.4,
      lifetime,
      slices: [],
    });
    expect(p.gainCaptured).toBeCloseTo((llBase - 0.45) / (llBase - 0.4), 12);
    expect(progressOf(f, 3, 300, 50, lifetime)).not.toHaveProperty('gainCaptured');
  });

  it('gives an export the figures, NaN and absent ones as null', () => {
    expect(exportFigures({ ...base, auc: NaN })).toEqual({
      auc: null,
      logloss: 0.456789,
      ne: 0.912345,
      calibration: 1.02345,
      bayesLogloss: null,
      gainCaptured: null,
    });
  });
});
