import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import type { LoadedConfig } from '../config/loader.ts';
import { loadConfigFrom, type LionctrConfig } from '../config/schema.ts';
import { exitStatusOf, LionctrError } from '../errors.ts';
import type { FeatureSchema } from '../features/schema.ts';
import { validateSchema } from '../features/schema.ts';
import { createFileSource, fileSourceName } from '../ingest/file-source.ts';
import { checkCsvColumns } from '../ingest/csv-header-check.ts';
import type { InputColumns } from '../ingest/input-columns.ts';
import { positionKey } from '../ingest/position-key.ts';
import type { ResumePoint, Source } from '../ingest/source.ts';
import { createSyntheticSource, syntheticSourceName } from '../ingest/synthetic-source.ts';
import { flushLogs } from '../log.ts';
import type { SourceSpec } from '../ingest/threaded/source-spec.ts';

/** The precedence of config sources, as `--help` and the README state it. */
export const CONFIG_PRECEDENCE = [
  'Configuration (later wins): defaults < config/default.json < --config files < env vars < --set <',
  "  this command's flags (--export-dir, --port, ...).",
  "A key's env var is LIONCTR_ + its path in upper snake case (train.batchSize: LIONCTR_TRAIN_BATCH_SIZE).",
  'Values: empty is refused; numbers are JSON numbers (1e3 = 1000; 5k, 8081abc refused);',
  '  booleans are true, false, 1 or 0. Usage and config errors exit 2.',
].join('\n');

/** Adds the options every command shares: --config FILE (repeatable) and --set key=value (repeatable). */
export function withConfigOptions(cmd: Command): Command {
  const collect = (v: string, prev: string[]) => [...prev, v];
  return cmd
    .option(
      '-c, --config <file>',
      'JSON config file (repeatable; later files win; env vars, --set and flags beat it)',
      collect,
      [],
    )
    .option(
      '--set <key=value>',
      "override one config key, e.g. --set train.batchSize=1024 (repeatable; beats files and env; the command's " +
        'flags beat it)',
      collect,
      [],
    )
    .addHelpText('after', `\n${CONFIG_PRECEDENCE}`);
}

/**
 * The flag that stands for each config key a command flag sets (for errors and the start-up
 * line); a key not listed is named `a flag`.
 */
const FLAG_OF: Record<string, string> = {
  'serve.port': '--port',
  'serve.host': '--host',
  'serve.modelName': '--model-name',
  'serve.workers': '--workers',
  'kafka.brokers': '--brokers',
  'kafka.topic': '--topic',
  'kafka.deadLetterTopic': '--dead-letter-topic',
  'export.dir': '--export-dir',
  'checkpoint.dir': '--checkpoint-dir',
  'source.kind': '--input',
  'source.path': '--input',
  'source.format': '--format',
  'source.skip': '--skip',
  'source.limit': '--limit',
  'source.epochs': '--epochs',
  'train.maxExamples': '--max-examples',
};

/**
 * Loads the config from a command's --config/--set plus `extra` `key=value` overrides that
 * the command's flags stand for (they beat --set), and says where each non-default key came from.
 */
export function loadCommandConfig(
  opts: { config: string[]; set: string[] },
  extra: string[] = [],
): LoadedConfig<LionctrConfig> {
  const flags = extra.map((set) => ({ set, flag: FLAG_OF[set.slice(0, set.indexOf('='))] ?? 'a flag' }));
  return loadConfigFrom({ files: opts.config, sets: opts.set, flags });
}

/** Loads the config from a command's --config/--set plus extra `key=value` overrides derived from flags. */
export function configFrom(opts: { config: string[]; set: string[] }, extra: string[] = []): LionctrConfig {
  return loadCommandConfig(opts, extra).config;
}

/**
 * Checks, before anything is created, that a file source's input exists and is a file.
 * @throws LionctrError LIONCTR_BAD_CONFIG when source.path is empty; LIONCTR_BAD_INPUT when it is missing,
 *   or when a CSV file's columns do not fit the schema (src/ingest/csv-header-check.ts).
 */
export function checkInput(cfg: LionctrConfig): void {
  if (cfg.source.kind !== 'file') return;
  const path = cfg.source.path;
  if (!path) throw new LionctrError('LIONCTR_BAD_CONFIG', 'source.kind is file but no input: give --input FILE');
  if (!existsSync(path)) throw new LionctrError('LIONCTR_BAD_INPUT', 'input file not found', { where: path });
  if (!statSync(path).isFile()) throw new LionctrError('LIONCTR_BAD_INPUT', 'input is not a file', { where: path });
  if (cfg.source.format === 'csv') checkCsvColumns(path, cfg.schema, inputColumnsOf(cfg));
}

/** The feature schema of a config. @throws LionctrError LIONCTR_BAD_CONFIG. */
export function featureSchemaOf(cfg: LionctrConfig): FeatureSchema {
  const s: FeatureSchema = {
    numeric: cfg.schema.numeric,
    categorical: cfg.schema.categorical,
    embeddingDim: cfg.schema.embeddingDim,
    dims: cfg.schema.dims,
  };
  validateSchema(s);
  return s;
}

/** The column rules of a config's input files (schema.label, time, ignore, weight, unknownSlots; source.csv). */
export function inputColumnsOf(cfg: LionctrConfig): InputColumns {
  const { label, time, ignore, weight, unknownSlots } = cfg.schema;
  return { label, time: { ...time }, ignore, csv: { ...cfg.source.csv }, weight, unknownSlots };
}

/**
 * The configured source for one pass as plain data (src/ingest/threaded/source-spec.ts), at
 * `resume`'s position when given (the pass a checkpoint stopped in): what the ingest thread opens.
 */
export function sourceSpecOf(cfg: LionctrConfig, schema: FeatureSchema, resume: ResumePoint | null = null): SourceSpec {
  if (cfg.source.kind === 'kafka') {
    const input = { columns: inputColumnsOf(cfg), fieldStarts: cfg.source.libsvm.fieldStarts };
    return { kind: 'kafka', options: { kafka: cfg.kafka, schema, resume, input } };
  }
  const left = (limit: number) => (limit ? Math.max(0, limit - (resume?.passExamples ?? 0)) : undefined);
  if (cfg.source.kind === 'synthetic') {
    const key = positionKey(syntheticSourceName(cfg.source.seed), 0);
    const options = {
      seed: cfg.source.seed,
      limit: left(cfg.source.limit),
      startOffset: resume?.nextOffsets[key] ?? 0,
      eventTime: cfg.source.synthetic.eventTime,
      freshIdSlots: cfg.source.synthetic.freshIdSlots,
    };
    return { kind: 'synthetic', options };
  }
  const key = positionKey(fileSourceName(cfg.source.path), 0);
  const options = {
    path: cfg.source.path,
    format: cfg.source.format,
    schema,
    skip: cfg.source.skip,
    limit: left(cfg.source.limit),
    fromLine: resume?.nextOffsets[key] ?? 1,
    columns: inputColumnsOf(cfg),
    fieldStarts: cfg.source.libsvm.fieldStarts,
  };
  return { kind: 'file', options };
}

/**
 * Opens the configured file or synthetic source for one pass on this thread, at `resume`'s
 * position when given. The kafka source is opened by train-session (openSourceSpec).
 */
export function openConfiguredSource(
  cfg: LionctrConfig,
  schema: FeatureSchema,
  resume: ResumePoint | null = null,
): Source {
  const spec = sourceSpecOf(cfg, schema, resume);
  if (spec.kind === 'synthetic') return createSyntheticSource(spec.options);
  if (spec.kind === 'file') return createFileSource(spec.options);
  throw new LionctrError('LIONCTR_INTERNAL', 'openConfiguredSource opens file and synthetic sources only');
}

/**
 * Prints a LionctrError (or any error) as one line `lionctr: [CODE] message` and exits with its
 * code's exit status from src/errors.ts (2 for LIONCTR_BAD_CONFIG and LIONCTR_BAD_INPUT, 3 for
 * LIONCTR_BROKER_UNAVAILABLE, else 1), after the lines the process logger still buffers (flushLogs).
 */
export function fatal(err: unknown): never {
  const e = err as Error & { code?: string };
  flushLogs(); // the log lines before it first: the error is the last line
  process.stderr.write(`lionctr: ${e.code ? `[${e.code}] ` : ''}${e.message}\n`);
  process.exit(exitStatusOf(err));
}
