/**
 * Config section `schema`: the slots of an example (numeric and categorical, the Criteo
 * layout by default; src/features/schema.ts), their embedding dims, and the other columns of an
 * input file: the label, the event time and its format, the columns ignored on purpose.
 */
import type { ConfigValues } from '../config/formats.ts';
import { criteoSlots } from './schema.ts';
import { timeFormatProblem } from './time-pattern.ts';

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
};

/** The resolved `schema` section. */
export type SchemaSection = ConfigValues<typeof schemaConfig>;
