/**
 * Config section `source`: where examples come from (synthetic stream, a file, or Kafka with
 * the `kafka` section of src/ingest/kafka/config.ts), and how a file source reads its file.
 */
import { oneOf, type ConfigValues } from '../config/formats.ts';

/** Convict schema of `source.*`. */
export const sourceConfig = {
  kind: {
    doc: 'Where examples come from',
    ...oneOf(['synthetic', 'file', 'kafka'], 'synthetic'),
    env: 'LIONCTR_SOURCE',
  },
  seed: { doc: 'Seed of the synthetic click stream', format: 'int', default: 1, env: 'LIONCTR_SOURCE_SEED' },
  path: { doc: 'Input file of the file source', format: String, default: '', env: 'LIONCTR_SOURCE_PATH' },
  format: {
    doc: 'Format of the file source',
    ...oneOf(['criteo', 'csv', 'jsonl'], 'criteo'),
    env: 'LIONCTR_SOURCE_FORMAT',
  },
  skip: { doc: 'Data rows of the file to skip first', format: 'nat', default: 0 },
  limit: { doc: 'Max examples read per pass (0 = no limit)', format: 'nat', default: 0, env: 'LIONCTR_SOURCE_LIMIT' },
  epochs: { doc: 'Passes over a file source', format: 'positive-int', default: 1 },
};

/** The resolved `source` section. */
export type SourceSection = ConfigValues<typeof sourceConfig>;
