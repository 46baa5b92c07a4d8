/**
 * The configuration of lionctr: every section's schema, each declared beside its owner, composed
 * here (convict; key, doc, default, format), and `loadConfig` (src/config/loader.ts:
 * defaults < config/default.json < --config files < env vars < --set < command flags). Every key's
 * env var is named from its path (src/config/keys.ts). Custom formats are in src/config/formats.ts.
 */
import convict from 'convict';
import { runConfig } from '../cli/config.ts';
import { schemaConfig } from '../features/config.ts';
import { sourceConfig } from '../ingest/config.ts';
import { kafkaConfig } from '../ingest/kafka/config.ts';
import { threadConfig } from '../ingest/threaded/config.ts';
import { backendConfig, modelConfig } from '../model/config.ts';
import { serveConfig } from '../serve/config.ts';
import { rowsConfig } from '../store/redis/config.ts';
import { checkpointConfig, exportConfig, trainConfig } from '../train/config.ts';
import { optimConfig } from '../train/optim/config.ts';
import { oneOf, type ConfigValues } from './formats.ts';
import { refuseUnknownEnv } from './unknown-env.ts';
import { type ConfigInputs, DEFAULT_CONFIG_FILE, type LoadedConfig, loadConfigLayers, loadConfigOf } from './loader.ts';

export { DEFAULT_CONFIG_FILE };

/** Convict schema of `log.*` (the process logger, src/log.ts). */
const logConfig = {
  level: {
    doc: 'Log level',
    ...oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], 'info'),
  },
};

/** The configuration schema (convict): every key, its doc, default and format (env var: from its path). */
export const configSchema = {
  source: { ...sourceConfig, thread: threadConfig },
  kafka: kafkaConfig,
  checkpoint: checkpointConfig,
  schema: schemaConfig,
  model: modelConfig,
  rows: rowsConfig,
  optim: optimConfig,
  train: trainConfig,
  export: exportConfig,
  serve: serveConfig,
  run: runConfig,
  backend: backendConfig,
  log: logConfig,
};

/** The resolved configuration. */
export type LionctrConfig = ConfigValues<typeof configSchema>;

/**
 * The schema's defaults as a plain object (what config/default.json holds); the process's
 * environment and arguments are not read (convict reads both by default, so a LIONCTR_* variable
 * set in the shell showed up as a "default").
 */
export function schemaDefaults(): LionctrConfig {
  return convict<LionctrConfig>(configSchema, { env: {}, args: [] }).getProperties();
}

/**
 * Loads the configuration: schema defaults, then config/default.json, then the given file(s),
 * then environment variables, then `--set key=value` overrides, then validates strictly.
 * @param files config files (JSON), applied in order.
 * @param sets  `key=value` strings; value parsed as JSON when it parses, else a string.
 * @throws LionctrError LIONCTR_BAD_CONFIG naming the key that is wrong (or the file).
 */
export function loadConfig(files: string[] = [], sets: string[] = []): LionctrConfig {
  refuseUnknownEnv(configSchema, process.env);
  return loadConfigOf<LionctrConfig>(configSchema, files, sets);
}

/**
 * Loads the configuration from `inputs` (defaults < config/default.json < files < env < --set <
 * flags) and says where each key that is not at its default came from.
 * @throws LionctrError LIONCTR_BAD_CONFIG naming the key and its source.
 */
export function loadConfigFrom(inputs: ConfigInputs): LoadedConfig<LionctrConfig> {
  refuseUnknownEnv(configSchema, inputs.env ?? process.env);
  return loadConfigLayers<LionctrConfig>(configSchema, inputs);
}
