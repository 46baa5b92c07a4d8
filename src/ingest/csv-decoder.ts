/**
 * Decoder of CSV records with a header: columns `label`, optional `ts` (ms since epoch),
 * and one column per slot name of the schema; a missing column or an empty cell is a
 * missing value; other columns are ignored. Records come from csv-parse (see file-source).
 */
import { LABEL_COLUMN, TS_INPUT_FIELD } from '../features/columns.ts';
import type { DecodedRow, SlotSchema } from './source.ts';
import { badInput, parseLabelCell, parseNumericCell } from './decode-util.ts';

/** Column positions of the header: -1 where a column is absent. */
export interface CsvColumnMap {
  header: string[];
  label: number;
  ts: number;
  numeric: number[];
  categorical: number[];
}

/**
 * Maps a header row (cells trimmed) to column positions for `schema`. Throws
 * LIONCTR_BAD_INPUT (reason `missing_label`) when there is no `label` column, or
 * (reason `bad_header`) on a duplicate column name; `where` is e.g. `file:1`.
 */
export function csvColumnMap(header: string[], schema: SlotSchema, where: string): CsvColumnMap {
  const pos = new Map<string, number>();
  header.forEach((h, i) => {
    const name = h.trim();
    if (pos.has(name)) throw badInput('bad_header', `duplicate CSV column ${JSON.stringify(name)}`, where);
    pos.set(name, i);
  });
  const label = pos.get(LABEL_COLUMN);
  if (label === undefined) throw badInput('missing_label', `CSV header has no "${LABEL_COLUMN}" column`, where);
  return {
    header,
    label,
    ts: pos.get(TS_INPUT_FIELD) ?? -1,
    numeric: schema.numeric.map((s) => pos.get(s) ?? -1),
    categorical: schema.categorical.map((s) => pos.get(s) ?? -1),
  };
}

/**
 * Decodes one CSV record (array of cells) with `map`. Throws LIONCTR_BAD_INPUT with reason
 * `wrong_field_count` (cell count differs from the header's), `missing_label`, `bad_label`
 * or `bad_number` (a numeric slot or ts cell).
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
  const eventTimeMs = map.ts >= 0 ? parseNumericCell(record[map.ts], TS_INPUT_FIELD, where) : null;
  const numeric = map.numeric.map((c) => (c >= 0 ? parseNumericCell(record[c], map.header[c].trim(), where) : null));
  const categorical = map.categorical.map((c) => {
    if (c < 0) return null;
    const v = record[c];
    return v.length === 0 ? null : v;
  });
  return { label, eventTimeMs, numeric, categorical };
}
