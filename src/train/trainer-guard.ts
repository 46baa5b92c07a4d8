/**
 * The trainer's guard against divergence (issue 11): a step whose loss or gradients are NaN
 * or infinite has already been skipped by TrainStep; the guard counts such steps in a row,
 * logs each, stops the run after `train.maxNonfiniteSteps` of them, and tells the trainer
 * whether the model may be written (checkpointed or exported) now, so that a diverged state
 * never replaces the last good checkpoint or export.
 */
import type { Logger } from 'pino';
import { LionctrError } from '../errors.ts';
import type { NonFiniteEvent } from '../events/train-events.ts';
import type { FeatureBatch } from '../features/feature-batch.ts';
import type { CtrModel } from '../model/ctr-model.ts';
import { logitsFinite } from './finite-check.ts';
import type { StepResult } from './train-step.ts';

/** Counts skipped steps in a row and decides whether the model is fit to be written. */
export class DivergenceGuard {
  /** Steps in a row whose update was skipped (0 after a step that was taken). */
  inARow = 0;
  /** The batch of the last step taken, scored again before a write. */
  private lastBatch: FeatureBatch | null = null;
  /** Whether a postponed write was logged since the last step taken (one warning each time). */
  private warned = false;

  /**
   * @param maxInARow skipped steps in a row that stop the run (train.maxNonfiniteSteps).
   * @param logger gets a warning per skipped step and per postponed write.
   */
  constructor(
    readonly maxInARow: number,
    private readonly logger: Logger,
  ) {}

  /**
   * Records a step's outcome; for a skipped one, warns with the step and what was not finite.
   * @param step the optimizer step counter after the step (unchanged by a skipped one).
   * @returns the event to emit for a skipped step, else null.
   */
  afterStep(r: StepResult, batch: FeatureBatch, step: number): NonFiniteEvent | null {
    if (r.nonFinite === null) {
      this.inARow = 0;
      this.lastBatch = batch;
      this.warned = false;
      return null;
    }
    this.inARow++;
    this.logger.warn(
      { step, examples: batch.size, nonFinite: r.nonFinite, inARow: this.inARow },
      `skipped the update of a batch after step ${step}: ${r.nonFinite} ` +
        `(${this.inARow} in a row; training stops at ${this.maxInARow}, train.maxNonfiniteSteps)`,
    );
    return { step, examples: batch.size, what: r.nonFinite, inARow: this.inARow };
  }

  /**
   * @param lastGood the step of the last checkpoint written (-1: none), for the message.
   * @throws LionctrError LIONCTR_DIVERGED once maxInARow steps in a row were skipped.
   */
  stopIfDiverged(what: string, lastGood: number): void {
    if (this.inARow < this.maxInARow) return;
    const kept = lastGood >= 0 ? `checkpoint step ${lastGood} and the exports before are kept` : 'no checkpoint yet';
    throw new LionctrError(
      'LIONCTR_DIVERGED',
      `training diverged: ${this.inARow} steps in a row had a non-finite loss or gradient (last: ${what}); ` +
        `nothing since the last good step was checkpointed or exported (${kept}); ` +
        'lower the learning rates (optim.*.lr) or look for extreme numeric features in the input',
      { where: 'train.maxNonfiniteSteps', reason: 'nonfinite_steps' },
    );
  }

  /**
   * Whether `model` may be written now: the last step was taken, and the model (updated by
   * it) gives finite logits on that step's batch; else warns (once until a step is taken)
   * that the write of `what` waits. One forward pass of a batch per call.
   */
  fitToWrite(model: CtrModel, what: string): boolean {
    let why = '';
    if (this.inARow > 0) why = `the last ${this.inARow} step(s) had a non-finite loss or gradient`;
    else if (this.lastBatch && !logitsFinite(model, this.lastBatch))
      why = 'the model gives non-finite logits on the batch it last trained on (its update blew it up)';
    if (why && !this.warned) this.logger.warn(`not writing ${what} now: ${why}; the last good one is kept`);
    if (why) this.warned = true;
    return !why;
  }
}
