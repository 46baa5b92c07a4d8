/**
 * Config section `source`: where examples come from (synthetic stream, a file, or Kafka with
 * the `kafka` section of src/ingest/kafka/config.ts), and how a file source reads its file.
 */
import { oneOf, type ConfigValues } from '../config/formats.ts';
import { delimiterOf } from './input-columns.ts';

/** How the synthetic source stamps event times (`source.synthetic.eventTime`; src/ingest/synthetic-source.ts). */
export const SYNTHETIC_EVENT_TIMES = ['wallclock', 'simulated'] as const;
/** One of SYNTHETIC_EVENT_TIMES. */
export type SyntheticEventTime = (typeof SYNTHETIC_EVENT_TIMES)[number];

/** Convict schema of `source.*`. */
export const sourceConfig = {
  kind: {
    doc: 'Where examples come from',
    ...oneOf(['synthetic', 'file', 'kafka'], 'synthetic'),
    env: 'LIONCTR_SOURCE',
  },
  seed: { doc: 'Seed of the synthetic click stream', format: 'int', default: 1, env: 'LIONCTR_SOURCE_SEED' },
  synthetic: {
    eventTime: {
      doc:
        'Event times of the synthetic stream: wallclock (the time each batch is drawn, so freshness metrics ' +
        'read seconds) or simulated (2026-01-01 + 10 ms per example: the same on every run, for tests)',
      ...oneOf(SYNTHETIC_EVENT_TIMES, 'wallclock'),
      env: 'LIONCTR_SOURCE_SYNTHETIC_EVENT_TIME',
    },
    freshIdSlots: {
      doc:
        'An ever-growing vocabulary: the last N categorical slots (0..26) of every synthetic example carry an ' +
        'id never seen before (no signal; only rows), e.g. to soak model.memoryBudgetBytes. 0 = off',
      format: 'nat',
      default: 0,
    },
  },
  path: { doc: 'Input file of the file source', format: String, default: '', env: 'LIONCTR_SOURCE_PATH' },
  format: {
    doc: 'Format of the file source',
    ...oneOf(['criteo', 'csv', 'jsonl'], 'criteo'),
    env: 'LIONCTR_SOURCE_FORMAT',
  },
  skip: { doc: 'Data rows of the file to skip first', format: 'nat', default: 0 },
  limit: { doc: 'Max examples read per pass (0 = no limit)', format: 'nat', default: 0, env: 'LIONCTR_SOURCE_LIMIT' },
  epochs: { doc: 'Passes over a file source', format: 'positive-int', default: 1 },
  csv: {
    header: { doc: 'A CSV file starts with a header line naming its columns', format: Boolean, default: true },
    columns: {
      doc: 'The column names of a CSV file without a header (source.csv.header false), in file order',
      format: 'string-list',
      default: [] as string[],
    },
    delimiter: {
      doc: 'Field delimiter of a CSV file: one character, or tab',
      format: (v: unknown) => {
        if (typeof v !== 'string' || delimiterOf(v).length !== 1 || /["\r\n]/.test(v))
          throw new Error('must be one character (not a quote or newline), or tab');
      },
      default: ',',
    },
  },
};

/** The resolved `source` section. */
export type SourceSection = ConfigValues<typeof sourceConfig>;
