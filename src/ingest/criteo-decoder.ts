/**
 * Decoder of the Criteo Display Advertising text format: one impression per line,
 * `label \t I1..I13 \t C1..C26` (40 tab-separated fields, empty = missing).
 */
import { CRITEO_CATEGORICAL, CRITEO_NUMERIC, criteoSlots } from '../features/schema.ts';
import type { DecodedRow } from './source.ts';
import { badInput, parseLabelCell, parseNumericCell } from './decode-util.ts';

/** Fields of a Criteo line: the label, then the numeric and categorical slots. */
const CRITEO_FIELDS = 1 + CRITEO_NUMERIC + CRITEO_CATEGORICAL;
/** Numeric slot names I1..I13, for errors. */
const NUMERIC_NAMES = criteoSlots().numeric;

/**
 * Decodes one Criteo TSV line (without its newline; a trailing '\r' is dropped) into a row
 * with 13 numeric and 26 categorical cells (the slots of criteoSlots() in features/schema.ts)
 * and eventTimeMs null. `where` (e.g. `file:line`) goes into errors. Throws LIONCTR_BAD_INPUT
 * with reason `wrong_field_count` (not 40 fields), `missing_label`, `bad_label` or `bad_number`.
 */
export function decodeCriteoLine(line: string, where: string): DecodedRow {
  if (line.length > 0 && line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
  const f = line.split('\t');
  if (f.length !== CRITEO_FIELDS) {
    throw badInput('wrong_field_count', `expected ${CRITEO_FIELDS} tab-separated fields, got ${f.length}`, where);
  }
  const label = parseLabelCell(f[0], where);
  const numeric = new Array<number | null>(CRITEO_NUMERIC);
  for (let i = 0; i < CRITEO_NUMERIC; i++) numeric[i] = parseNumericCell(f[1 + i], NUMERIC_NAMES[i], where);
  const categorical = new Array<string | null>(CRITEO_CATEGORICAL);
  for (let i = 0; i < CRITEO_CATEGORICAL; i++) {
    const v = f[1 + CRITEO_NUMERIC + i];
    categorical[i] = v.length === 0 ? null : v;
  }
  return { label, eventTimeMs: null, numeric, categorical };
}
