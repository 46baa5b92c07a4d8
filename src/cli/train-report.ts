/**
 * What `lionctr train` tells its user besides the summary: the start-up line (what it trains
 * on, with every setting that bounds the run and where a non-default one came from), and how
 * a run ended when that is not what it was asked: stopped by a signal before its end, or
 * nothing trained because a checkpoint had already done the work.
 */
import type { LionctrConfig } from '../config/schema.ts';
import type { TrainSummary } from '../train/trainer-options.ts';

/** Exit status of a run stopped by a signal before its end: 128 + the signal's number (SIGINT 2, else SIGTERM 15). */
export const interruptedExit = (reason: string): number => (reason === 'SIGINT' ? 130 : 143);

/**
 * The start-up line of `train`: source, skip / limit / epochs of a file, max examples, batch
 * size, exports and checkpoints roots; a setting not at its default says where it came from
 * (`limit 8000 [config/criteo.json]`), so that a config file's limit is never silent.
 * @param origins key -> source of its value (src/config/loader.ts LoadedConfig.origins).
 */
export function trainStartLine(
  cfg: LionctrConfig,
  origins: Map<string, string>,
  exportDir: string,
  checkpointDir: string | null,
): string {
  const at = (key: string, text: string) => {
    const from = origins.get(key);
    return from ? `${text} [${from}]` : text;
  };
  const s = cfg.source;
  const source =
    s.kind === 'file'
      ? `file ${s.path} (${at('source.format', `format ${s.format}`)}): ${at('source.skip', `skip ${s.skip}`)}, ` +
        `${at('source.limit', `limit ${s.limit || 'none'}`)}, ${at('source.epochs', `epochs ${s.epochs}`)}`
      : s.kind === 'kafka'
        ? `kafka topic ${cfg.kafka.topic} (group ${cfg.kafka.groupId})`
        : `synthetic stream (seed ${s.seed})`;
  return (
    `training from ${source}; ${at('train.maxExamples', `max examples ${cfg.train.maxExamples || 'none'}`)}, ` +
    `${at('train.batchSize', `batch ${cfg.train.batchSize}`)}; ${at('export.dir', `exports ${exportDir}`)}, ` +
    `checkpoints ${checkpointDir ?? 'off'}`
  );
}

/**
 * Why a finished `train` did not reach its end: the signal's name when a signal stopped a run
 * that has an end (a file or synthetic source, or train.maxExamples) before that end; null
 * otherwise (a Kafka run without maxExamples ends only by a signal: that is its normal stop).
 */
export function interruption(cfg: LionctrConfig, s: TrainSummary, signal: AbortSignal): string | null {
  if (!signal.aborted) return null;
  const max = cfg.train.maxExamples;
  if (cfg.source.kind === 'kafka' && !max) return null;
  if (max && s.progress.examples >= max) return null;
  return String(signal.reason ?? 'a signal');
}

/** The line saying how far an interrupted run got and how to go on. */
export function interruptedLine(reason: string, s: TrainSummary, checkpointDir: string | null): string {
  const next = checkpointDir
    ? `the newest checkpoint in ${checkpointDir} holds it: the same command resumes from there`
    : 'checkpoints are off: a rerun starts afresh';
  return (
    `lionctr: interrupted by ${reason} after ${s.progress.examples} examples ` +
    `(${s.examplesThisRun} in this run, step ${s.progress.step}, ${s.exports.length} exports written); ${next}\n`
  );
}

/** The warning of a run that trained nothing because its checkpoint had already trained this input. */
export function nothingTrainedLine(s: TrainSummary, checkpointDir: string | null): string {
  return (
    'lionctr: WARNING: this run trained 0 examples: it resumed a checkpoint that had already trained this ' +
    `input to its end (${s.progress.examples} examples, step ${s.progress.step}) in ${checkpointDir}; ` +
    'give another --export-dir (or --checkpoint-dir), or delete that directory, to train afresh\n'
  );
}
