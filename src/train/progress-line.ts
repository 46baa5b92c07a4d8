/**
 * The progress line the trainer logs every `train.progressSeconds`, and the Progress figures
 * behind it (progressive validation over the sliding window, src/train/evaluation/progressive.ts).
 * Format: `step S | N ex | R ex/s | progressive(W) AUC a logloss l NE n calib c[ | bayes logloss b gain g]`,
 * 4 decimals (calibration and gain 3), `-` for a figure that is undefined or NaN.
 */
import type { Progress, QualityFigures, SliceQuality } from '../events/train-events.ts';
import type { WindowFigures } from './evaluation/progressive.ts';

/**
 * Progress at optimizer step `step` after `examples` examples, at `examplesPerSecond`, from the
 * window's figures `f`, the lifetime's and the slices' (src/train/evaluation/progressive.ts).
 * With Bayes probabilities (synthetic source): gainCaptured = (LL_base - LL) / (LL_base - LL_bayes),
 * where LL_base = logloss / NE is the entropy of the window's CTR.
 */
export function progressOf(
  f: WindowFigures,
  step: number,
  examples: number,
  examplesPerSecond: number,
  lifetime: QualityFigures,
  slices: SliceQuality[] = [],
): Progress {
  const p: Progress = {
    step,
    examples,
    examplesPerSecond,
    auc: f.auc,
    logloss: f.logloss,
    ne: f.ne,
    calibration: f.calibration,
    window: f.window,
    ctr: f.ctr,
    aucErrorBound: f.aucErrorBound,
    lifetime,
    slices,
  };
  if (!Number.isNaN(f.bayesLogloss)) {
    const base = f.logloss / f.ne; // entropy of the window's CTR
    p.bayesLogloss = f.bayesLogloss;
    p.gainCaptured = (base - f.logloss) / (base - f.bayesLogloss);
  }
  return p;
}

/** `x` to `d` decimals, `-` when undefined or NaN. */
const fx = (x: number | undefined, d = 4): string => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));

/** The progress line of `p` (see the module doc). */
export function formatProgressLine(p: Progress): string {
  const bayes =
    p.bayesLogloss === undefined ? '' : ` | bayes logloss ${fx(p.bayesLogloss)} gain ${fx(p.gainCaptured, 3)}`;
  return (
    `step ${p.step} | ${p.examples} ex | ${Math.round(p.examplesPerSecond)} ex/s | progressive(${p.window}) ` +
    `AUC ${fx(p.auc)} logloss ${fx(p.logloss)} NE ${fx(p.ne)} calib ${fx(p.calibration, 3)}${bayes}`
  );
}

/** The figures an export's manifest records (`metrics`): NaN and absent ones as null. */
export function exportFigures(p: Progress): Record<string, number | null> {
  const metrics: Record<string, number | null> = {};
  for (const k of ['auc', 'logloss', 'ne', 'calibration', 'bayesLogloss', 'gainCaptured'] as const) {
    const v = p[k];
    metrics[k] = v === undefined || Number.isNaN(v) ? null : v;
  }
  return metrics;
}
