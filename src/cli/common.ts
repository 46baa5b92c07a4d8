import type { Command } from 'commander';
import { loadConfig, type LionctrConfig } from '../config/schema.ts';
import { exitStatusOf } from '../errors.ts';
import type { FeatureSchema } from '../features/schema.ts';
import { validateSchema } from '../features/schema.ts';
import { createFileSource, fileSourceName } from '../ingest/file-source.ts';
import { positionKey } from '../ingest/position-key.ts';
import type { ResumePoint, Source } from '../ingest/source.ts';
import { createSyntheticSource, syntheticSourceName } from '../ingest/synthetic-source.ts';

/** Adds the options every command shares: --config FILE (repeatable) and --set key=value (repeatable). */
export function withConfigOptions(cmd: Command): Command {
  const collect = (v: string, prev: string[]) => [...prev, v];
  return cmd
    .option(
      '-c, --config <file>',
      'JSON config file (repeatable; later files win); defaults: config/default.json keys',
      collect,
      [],
    )
    .option('--set <key=value>', 'override one config key, e.g. --set train.batchSize=1024 (repeatable)', collect, []);
}

/** Loads the config from a command's --config/--set plus extra `key=value` overrides derived from flags. */
export function configFrom(opts: { config: string[]; set: string[] }, extra: string[] = []): LionctrConfig {
  return loadConfig(opts.config, [...extra, ...opts.set]);
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

/**
 * Opens the configured file or synthetic source for one pass, at `resume`'s position when
 * given (the pass a checkpoint stopped in). The kafka source is opened by train-session.
 */
export function openConfiguredSource(
  cfg: LionctrConfig,
  schema: FeatureSchema,
  resume: ResumePoint | null = null,
): Source {
  const left = (limit: number) => (limit ? Math.max(0, limit - (resume?.passExamples ?? 0)) : undefined);
  if (cfg.source.kind === 'synthetic') {
    const key = positionKey(syntheticSourceName(cfg.source.seed), 0);
    return createSyntheticSource({
      seed: cfg.source.seed,
      limit: left(cfg.source.limit),
      startOffset: resume?.nextOffsets[key] ?? 0,
      eventTime: cfg.source.synthetic.eventTime,
    });
  }
  const key = positionKey(fileSourceName(cfg.source.path), 0);
  return createFileSource({
    path: cfg.source.path,
    format: cfg.source.format,
    schema,
    skip: cfg.source.skip,
    limit: left(cfg.source.limit),
    fromLine: resume?.nextOffsets[key] ?? 1,
  });
}

/**
 * Prints a LionctrError (or any error) as one line `lionctr: [CODE] message` and exits with its
 * code's exit status from src/errors.ts (2 for LIONCTR_BAD_CONFIG and LIONCTR_BAD_INPUT, 3 for
 * LIONCTR_BROKER_UNAVAILABLE, else 1).
 */
export function fatal(err: unknown): never {
  const e = err as Error & { code?: string };
  process.stderr.write(`lionctr: ${e.code ? `[${e.code}] ` : ''}${e.message}\n`);
  process.exit(exitStatusOf(err));
}
