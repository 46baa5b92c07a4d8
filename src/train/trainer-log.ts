/**
 * The trainer's log lines about passes (the progress line is src/train/progress-line.ts):
 * a pass starts (and resumes from a checkpoint, maybe one of another source), bad rows a
 * pass skipped, and a resumed run with nothing left to train.
 */
import type { Logger } from 'pino';
import { isKeyOf } from '../ingest/position-key.ts';
import type { ResumePoint } from '../ingest/source.ts';

/**
 * `training from <source>[ (pass e/E)][ from checkpoint step S]` at info; before it, a
 * warning when the checkpoint's positions `resume` has none of `source`.
 */
export function logPassStart(
  log: Logger,
  source: string,
  epoch: number,
  epochs: number,
  resume: ResumePoint | null,
  resumeStep: number,
): void {
  const keys = resume ? Object.keys(resume.nextOffsets) : [];
  if (resume && !keys.some((k) => isKeyOf(k, source))) {
    log.warn(
      { checkpointOffsets: resume.nextOffsets },
      `the checkpoint's positions are of another source (${keys.join(', ')}); ${source} starts from its beginning`,
    );
  }
  const pass = epochs > 1 ? ` (pass ${epoch + 1}/${epochs})` : '';
  log.info({ source, epoch }, `training from ${source}${pass}${resume ? ` from checkpoint step ${resumeStep}` : ''}`);
}

/** Warns with the counts when a pass over `source` skipped bad rows (`bad`: reason -> rows). */
export function logBadRows(log: Logger, source: string, bad: Record<string, number>): void {
  if (Object.keys(bad).length) log.warn({ bad }, `${source}: skipped bad rows ${JSON.stringify(bad)}`);
}

/**
 * Warns that the checkpoint a run resumed from (step `step`, `examples` trained) already
 * `finished` its work (e.g. `train.maxExamples=1000`, `2 of 2 pass(es)`).
 */
export function warnNothingLeft(
  log: Logger,
  step: number,
  examples: number,
  finished: string,
  checkpointDir: string | null | undefined,
): void {
  log.warn(
    `nothing left to train: the checkpoint (step ${step}, ${examples} examples) already finished ${finished}; ` +
      `delete ${checkpointDir} or raise the limit to train more`,
  );
}
