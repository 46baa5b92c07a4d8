/**
 * Decoder of CSV records: the columns are named by the header line (or by `source.csv.columns`
 * for a file without one); one is the label (`schema.label`), one may be the event time
 * (`schema.time`), one may be the sample weight (`schema.weight`), the others must be exactly the
 * schema's slots plus the columns the config ignores (`schema.ignore`): a file lacking a slot or
 * carrying a column nobody named is refused, naming them. An empty cell is a missing value.
 * Records come from csv-parse (see file-source).
 */
import { LionctrError } from '../errors.ts';
import type { DecodedRow, SlotSchema } from './source.ts';
import { badInput, parseLabelCell, parseNumericCell, parseWeightValue } from './decode-util.ts';
import { defaultInputColumns, type InputColumns } from './input-columns.ts';
import { type TimeParser, timeParser } from './time-format.ts';

/** Column positions of the header: -1 where a column is absent. */
export interface CsvColumnMap {
  header: string[];
  label: number;
  ts: number;
  /** Parser of the time column's cells (its format), when there is a time column. */
  time: TimeParser | null;
  numeric: number[];
  categorical: number[];
  /** Position of the sample-weight column (schema.weight); -1: none (weight 1). */
  weight: number;
}

/** At most this many names are listed in an error. */
const MAX_NAMED = 12;
const names = (xs: string[]): string =>
  xs
    .slice(0, MAX_NAMED)
    .map((x) => JSON.stringify(x))
    .join(', ') + (xs.length > MAX_NAMED ? ` and ${xs.length - MAX_NAMED} more` : '');

/**
 * Maps a header row (cells trimmed; or the configured names of a header-less file) to column
 * positions for `schema` under `cols`. Throws LIONCTR_BAD_INPUT (reason `missing_label`) when there
 * is no label column, or (reason `bad_header`) on a duplicate column name, on a label column that
 * is also a slot, and when the file lacks slots of the schema or carries columns that are neither
 * label, time, slot nor ignored (all of them named); `where` is e.g. `file:1`.
 */
export function csvColumnMap(
  header: string[],
  schema: SlotSchema,
  where: string,
  cols: InputColumns = defaultInputColumns(),
): CsvColumnMap {
  const pos = new Map<string, number>();
  header.forEach((h, i) => {
    const name = h.trim();
    if (pos.has(name)) {
      const hint = cols.csv.header
        ? '; a file without a header line: set source.csv.header false and name its columns in source.csv.columns'
        : '';
      throw badInput('bad_header', `duplicate CSV column ${JSON.stringify(name)}${hint}`, where);
    }
    pos.set(name, i);
  });
  const label = pos.get(cols.label);
  if (label === undefined) {
    const msg = `CSV columns have no label column "${cols.label}" (schema.label); columns: ${names([...pos.keys()])}`;
    throw badInput('missing_label', msg, where);
  }
  const slots = [...schema.numeric, ...schema.categorical];
  if (slots.includes(cols.label))
    throw badInput('bad_header', `the label column "${cols.label}" is also a slot of the schema`, where);
  const missing = slots.filter((s) => !pos.has(s));
  const weightCol = cols.weight ?? '';
  const known = new Set([cols.label, cols.time.column, ...slots, ...cols.ignore, ...(weightCol ? [weightCol] : [])]);
  const extra = [...pos.keys()].filter((c) => !known.has(c));
  if (missing.length > 0 || extra.length > 0) {
    const parts = [
      ...(missing.length ? [`lacks ${missing.length} slot(s) of the schema: ${names(missing)}`] : []),
      ...(extra.length
        ? [
            `carries ${extra.length} column(s) the config does not name: ${names(extra)} (add them to ` +
              'schema.numeric or schema.categorical, or to schema.ignore)',
          ]
        : []),
    ];
    const msg =
      `the CSV file does not match the schema: it ${parts.join('; it ')}. ` +
      '`lionctr schema infer --input FILE` prints a config that fits the file';
    throw badInput('bad_header', msg, where);
  }
  const ts = pos.get(cols.time.column) ?? -1;
  return {
    header,
    label,
    ts,
    time: ts >= 0 ? timeParser(cols.time.column, cols.time.format) : null,
    numeric: schema.numeric.map((s) => pos.get(s) ?? -1),
    categorical: schema.categorical.map((s) => pos.get(s) ?? -1),
    weight: weightCol ? (pos.get(weightCol) ?? -1) : -1,
  };
}

/**
 * The column map of a file without a header line (`source.csv.header` false), from the names in
 * `source.csv.columns`; null for a file with a header (its first record names the columns).
 * @throws LionctrError LIONCTR_BAD_CONFIG when names are missing (no header) or given for a file
 *   with a header; LIONCTR_BAD_INPUT as csvColumnMap.
 */
export function namedColumnMap(schema: SlotSchema, cols: InputColumns): CsvColumnMap | null {
  const where = 'source.csv.columns';
  if (cols.csv.header && cols.csv.columns.length > 0) {
    const msg = 'source.csv.columns names the columns of a file without a header: set source.csv.header false';
    throw new LionctrError('LIONCTR_BAD_CONFIG', msg, { where });
  }
  if (cols.csv.header) return null;
  if (cols.csv.columns.length === 0)
    throw new LionctrError('LIONCTR_BAD_CONFIG', 'source.csv.header is false: name the columns in source.csv.columns', {
      where,
    });
  return csvColumnMap(cols.csv.columns, schema, where, cols);
}

/**
 * Decodes one CSV record (array of cells) with `map`. Throws LIONCTR_BAD_INPUT with reason
 * `wrong_field_count` (cell count differs from the header's), `missing_label`, `bad_label`,
 * `bad_number` (a numeric slot or time cell), `bad_timestamp` (time-format.ts) or `bad_weight`
 * (the schema.weight cell: empty = weight 1).
 */
export function decodeCsvRecord(record: string[], map: CsvColumnMap, where: string): DecodedRow {
  if (record.length !== map.header.length) {
    throw badInput(
      'wrong_field_count',
      `expected ${map.header.length} fields (as the header), got ${record.length}`,
      where,
    );
  }
  const label = parseLabelCell(record[map.label], where);
  const eventTimeMs = map.time !== null ? map.time(record[map.ts], where) : null;
  const numeric = map.numeric.map((c) => (c >= 0 ? parseNumericCell(record[c], map.header[c].trim(), where) : null));
  const categorical = map.categorical.map((c) => {
    if (c < 0) return null;
    const v = record[c];
    return v.length === 0 ? null : v;
  });
  const row: DecodedRow = { label, eventTimeMs, numeric, categorical };
  if (map.weight >= 0) {
    const w = parseWeightValue(record[map.weight], map.header[map.weight].trim(), where);
    if (w !== undefined) row.weight = w;
  }
  return row;
}
