/**
 * @module How the columns of an input file are read besides its slots (config `schema.label`,
 * `schema.time`, `schema.ignore`, `source.csv.*`): which column is the label, which is the event
 * time and in what format, which columns are ignored on purpose, the sample-weight column
 * (`schema.weight`), what a JSON example's unknown key does (`schema.unknownSlots`), and a CSV
 * file's layout.
 */
import { LABEL_COLUMN, TS_INPUT_FIELD } from '../features/columns.ts';
import type { UnknownSlotPolicy } from '../features/unknown-slots.ts';

/** The column rules of an input file. */
export interface InputColumns {
  /** The label column (CSV; values 0 or 1). JSON lines keep the key `label`. */
  label: string;
  /** The event-time column (optional in a file) and its format: `ms`, `s` or a pattern (time-format.ts). */
  time: { column: string; format: string };
  /** Columns a CSV file may carry that are neither label, time nor a slot. */
  ignore: string[];
  /** CSV layout: a header line or not, the column names when not, the field delimiter. */
  csv: { header: boolean; columns: string[]; delimiter: string };
  /** The sample-weight column (schema.weight); '' or absent = none (every weight 1). */
  weight?: string;
  /** A JSON example's key that is no slot (schema.unknownSlots; src/features/unknown-slots.ts); absent = reject. */
  unknownSlots?: UnknownSlotPolicy;
}

/** The defaults: `label`, `ts` in ms, nothing ignored, a comma-separated file with a header. */
export function defaultInputColumns(): InputColumns {
  return {
    label: LABEL_COLUMN,
    time: { column: TS_INPUT_FIELD, format: 'ms' },
    ignore: [],
    csv: { header: true, columns: [], delimiter: ',' },
  };
}

/** The delimiter a config value stands for: `tab` (or `\t`) is a tab; any other value is itself. */
export const delimiterOf = (v: string): string => (v === 'tab' || v === '\\t' ? '\t' : v);
