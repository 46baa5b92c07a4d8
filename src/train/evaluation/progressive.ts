import { evalFigures, logloss, type EvalFigures } from './binary-metrics.ts';

/**
 * Progressive validation (McMahan et al. 2013, "Ad Click Prediction: a View from the
 * Trenches", sec. 5.1): every example is scored before the model trains on it; these
 * running figures are the model's honest online quality. Keeps the last `window`
 * predictions, labels (and Bayes probabilities where the source knows them) in ring buffers.
 */
export class ProgressiveMetrics {
  readonly window: number;
  private p: Float64Array;
  private y: Float64Array;
  private bayes: Float64Array;
  private hasBayes = true;
  private head = 0;
  private filled = 0;
  /** Examples scored since start. */
  examples = 0;

  /** @param window examples in the sliding window (e.g. 100,000). */
  constructor(window = 100_000) {
    this.window = window;
    this.p = new Float64Array(window);
    this.y = new Float64Array(window);
    this.bayes = new Float64Array(window);
  }

  /** Adds a scored batch: predictions made before training on it, labels, optional true p. */
  add(pred: ArrayLike<number>, labels: ArrayLike<number>, bayesP?: ArrayLike<number>, n = pred.length): void {
    if (!bayesP) this.hasBayes = false;
    for (let i = 0; i < n; i++) {
      this.p[this.head] = pred[i];
      this.y[this.head] = labels[i];
      this.bayes[this.head] = bayesP ? bayesP[i] : NaN;
      this.head = (this.head + 1) % this.window;
    }
    this.filled = Math.min(this.window, this.filled + n);
    this.examples += n;
  }

  /**
   * Figures over the window; `bayesLogloss` when every example came with its true p. Undefined
   * ones are NaN (binary-metrics.ts): all of them while a NaN or infinite prediction of a
   * diverged step is in the window, AUC / NE / calibration while the window has no click.
   */
  figures(): EvalFigures & { bayesLogloss?: number; window: number } {
    const n = this.filled;
    const f = evalFigures(this.p, this.y, n);
    return { ...f, window: n, ...(this.hasBayes && n ? { bayesLogloss: logloss(this.bayes, this.y, n) } : {}) };
  }
}
