/**
 * Config section `schema`: the slots of an example (numeric and categorical, the Criteo
 * layout by default; src/features/schema.ts), their embedding dims, and the other columns of an
 * input file: the label, the event time and its format, the columns ignored on purpose, the
 * sample-weight column, and the unknown-slot policy shared by training and serving.
 */
import { oneOf, type ConfigValues } from '../config/formats.ts';
import { criteoSlots } from './schema.ts';
import { timeFormatProblem } from './time-pattern.ts';
import { UNKNOWN_SLOT_POLICIES } from './unknown-slots.ts';

const slots = criteoSlots();

/** Convict format: a non-empty string. */
const nonEmpty = (v: unknown): void => {
  if (typeof v !== 'string' || v.trim() === '') throw new Error('must be a non-empty string');
};

/** Convict schema of `schema.*`. */
export const schemaConfig = {
  numeric: {
    doc: 'Numeric slots (also embedded through their Criteo bucket)',
    format: 'string-list',
    default: slots.numeric,
  },
  categorical: { doc: 'Categorical slots', format: 'string-list', default: slots.categorical },
  embeddingDim: {
    doc: 'Embedding dim D of every slot',
    format: 'positive-int',
    default: 16,
    env: 'LIONCTR_EMBEDDING_DIM',
  },
  dims: {
    doc: 'Per-slot embedding dim overrides {slot: D}',
    format: 'slot-dims',
    default: {} as Record<string, number>,
  },
  label: { doc: 'The label column of a CSV file (values 0 or 1)', format: nonEmpty, default: 'label' },
  time: {
    column: {
      doc: 'The event-time column of a file (optional in the file); not a slot unless listed as one',
      format: nonEmpty,
      default: 'ts',
    },
    format: {
      doc:
        'Format of the event-time column: ms or s since the epoch, or a UTC pattern of YYYY|YY, MM, DD, HH, mm, ss ' +
        '(e.g. YYMMDDHH); times outside 2001-2500 are bad rows (bad_timestamp)',
      format: (v: unknown) => {
        const why = typeof v === 'string' ? timeFormatProblem(v) : 'must be a string';
        if (why) throw new Error(why);
      },
      default: 'ms',
    },
  },
  ignore: {
    doc:
      'Columns of a CSV file (keys of JSON lines features) that are neither label, time nor a slot: any other ' +
      'such CSV column is refused',
    format: 'string-list',
    default: [] as string[],
  },
  unknownSlots: {
    doc:
      'A key of a JSON example (JSON lines, Kafka JSON, a serving instance) that is neither a slot nor in ' +
      'schema.ignore: reject (a bad row, reason unknown_slot; serving answers 400) or ignore (dropped and ' +
      "counted). Recorded in the export, so serving applies the trainer's rule unless serve.unknownSlots " +
      'says otherwise',
    ...oneOf(UNKNOWN_SLOT_POLICIES, 'reject'),
  },
  weight: {
    doc:
      'The sample-weight column of a CSV, JSON-lines (top-level key) or Arrow input: a finite number >= 0 that ' +
      "scales the example's loss and gradient; absent or null = 1; a negative, non-finite or non-numeric value " +
      'is a bad row (bad_weight). Empty = no weight column',
    format: (v: unknown) => {
      if (typeof v !== 'string') throw new Error('must be a column name (or empty: no weight column)');
    },
    default: '',
  },
};

/** The resolved `schema` section. */
export type SchemaSection = ConfigValues<typeof schemaConfig>;
