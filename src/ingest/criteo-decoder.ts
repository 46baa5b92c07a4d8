/**
 * Decoder of the Criteo Display Advertising text format: one impression per line,
 * `label \t I1..I13 \t C1..C26` (40 tab-separated fields, empty = missing).
 */
import type { DecodedRow, SlotSchema } from './source.ts';
import { badInput, parseLabelCell, parseNumericCell } from './decode-util.ts';

/** Number of numeric (I1..I13) and categorical (C1..C26) fields of a Criteo line. */
export const CRITEO_NUMERIC = 13;
export const CRITEO_CATEGORICAL = 26;

/** The Criteo slot schema: numeric I1..I13, categorical C1..C26 (a fresh object each call). */
export function criteoSchema(): SlotSchema {
  return {
    numeric: Array.from({ length: CRITEO_NUMERIC }, (_, i) => `I${i + 1}`),
    categorical: Array.from({ length: CRITEO_CATEGORICAL }, (_, i) => `C${i + 1}`),
  };
}

/**
 * Decodes one Criteo TSV line (without its newline; a trailing '\r' is dropped) into a row
 * with 13 numeric and 26 categorical cells and eventTimeMs null. `where` (e.g. `file:line`)
 * goes into errors. Throws LIONCTR_BAD_INPUT with reason `wrong_field_count` (not 40
 * fields), `missing_label`, `bad_label` or `bad_number`.
 */
export function decodeCriteoLine(line: string, where: string): DecodedRow {
  if (line.length > 0 && line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
  const f = line.split('\t');
  if (f.length !== 1 + CRITEO_NUMERIC + CRITEO_CATEGORICAL) {
    throw badInput('wrong_field_count', `expected ${1 + CRITEO_NUMERIC + CRITEO_CATEGORICAL} tab-separated fields, got ${f.length}`, where);
  }
  const label = parseLabelCell(f[0], where);
  const numeric = new Array<number | null>(CRITEO_NUMERIC);
  for (let i = 0; i < CRITEO_NUMERIC; i++) numeric[i] = parseNumericCell(f[1 + i], `I${i + 1}`, where);
  const categorical = new Array<string | null>(CRITEO_CATEGORICAL);
  for (let i = 0; i < CRITEO_CATEGORICAL; i++) {
    const v = f[1 + CRITEO_NUMERIC + i];
    categorical[i] = v.length === 0 ? null : v;
  }
  return { label, eventTimeMs: null, numeric, categorical };
}
