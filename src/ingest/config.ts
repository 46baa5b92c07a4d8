/**
 * Config section `source`: where examples come from (synthetic stream, a file, or Kafka with
 * the `kafka` section of src/ingest/kafka/config.ts), and how a file source reads its file.
 */
import convict from 'convict';
import { oneOf, parseJsonOrKeep, type ConfigValues } from '../config/formats.ts';
import { delimiterOf } from './input-columns.ts';

/** How the synthetic source stamps event times (`source.synthetic.eventTime`; src/ingest/synthetic-source.ts). */
export const SYNTHETIC_EVENT_TIMES = ['wallclock', 'simulated'] as const;
/** One of SYNTHETIC_EVENT_TIMES. */
export type SyntheticEventTime = (typeof SYNTHETIC_EVENT_TIMES)[number];

/** `source.libsvm.fieldStarts`: strictly ascending integers >= 0 (JSON from env/--set). */
function validateFieldStarts(v: unknown): void {
  if (!Array.isArray(v) || v.some((x, i) => !Number.isInteger(x) || x < 0 || (i > 0 && x <= v[i - 1])))
    throw new Error('must be a list of strictly ascending integers >= 0, e.g. [0,13,1000]');
}
convict.addFormat({ name: 'field-starts', validate: validateFieldStarts, coerce: parseJsonOrKeep });

/** Formats of the file source (src/ingest/file-source.ts); README "Input formats". */
export const FILE_FORMATS = ['criteo', 'csv', 'jsonl', 'libsvm', 'libffm', 'arrow'] as const;
/** One of FILE_FORMATS. */
export type FileFormat = (typeof FILE_FORMATS)[number];

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
    doc:
      'Format of the file source: criteo (TSV), csv (with a header), jsonl, libsvm (also libFM), libffm, ' +
      'arrow (IPC file or stream); gzip-compressed input of any format is detected and decompressed',
    ...oneOf(FILE_FORMATS, 'criteo'),
    env: 'LIONCTR_SOURCE_FORMAT',
  },
  libsvm: {
    fieldStarts: {
      doc:
        'libsvm: the first feature index of each field, ascending (field k = slot k of schema.numeric then ' +
        'schema.categorical; an index belongs to the last field starting at or below it); [] = index i is field i',
      format: 'field-starts',
      default: [] as number[],
    },
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
