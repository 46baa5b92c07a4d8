/**
 * Decoder of the sparse text formats: libSVM / libFM (`label idx:val idx:val ...`) and
 * libFFM (`label field:idx:val ...`), one example per line, into rows of a SlotSchema.
 *
 * Slots: field k is the k-th slot of `schema.numeric` followed by `schema.categorical`
 * (the Criteo column order, so fields 0..38 are I1..I13, C1..C26 with the default schema).
 * libFFM names the field; libSVM has none: feature index i is field i, or, with
 * `fieldStarts` (ascending first indices of each field), the field whose range holds i.
 * A numeric slot takes `val` (its index is not used). A categorical slot takes the index as
 * its id; val 0 means absent (as in every sparse format); any other val marks the id
 * present, and a val other than 1 is not used (a slot holds one id, no weight), which
 * `onDroppedValue` hears once per slot.
 * Labels: `1`/`+1` -> 1, `0`/`-1` -> 0; anything else is `bad_label`. A token starting
 * with `#` starts a comment (SVMlight) that runs to the end of the line.
 */
import type { DecodedRow, SlotSchema } from './source.ts';
import { badInput, parseNumericCell } from './decode-util.ts';

/** The two sparse text formats. */
export type SparseFormat = 'libsvm' | 'libffm';

/** Options of createSparseDecoder. */
export interface SparseDecoderOptions {
  /** libsvm only: first feature index of each field, strictly ascending; empty/absent = index i is field i. */
  fieldStarts?: readonly number[];
  /** Hears once per categorical slot that a val other than 0 or 1 was not used. */
  onDroppedValue?: (slot: string, where: string) => void;
}

const DIGITS = /^\d+$/;
const SPACE = /[ \t]+/;
const LEADING_ZEROS = /^0+(?=\d)/;

/**
 * Parses a sparse-format label: `1` or `+1` -> 1, `0` or `-1` -> 0. Throws LIONCTR_BAD_INPUT
 * `missing_label` when the first token is a feature (holds ':'), else `bad_label`.
 */
export function parseSparseLabel(tok: string, where: string): 0 | 1 {
  if (tok === '1' || tok === '+1') return 1;
  if (tok === '0' || tok === '-1') return 0;
  if (tok.includes(':')) throw badInput('missing_label', `line starts with feature ${JSON.stringify(tok)}`, where);
  throw badInput('bad_label', `label must be 1, +1, 0 or -1, got ${JSON.stringify(tok.slice(0, 40))}`, where);
}

/**
 * Returns a decoder of one line of `format` for `schema` (see the module doc for the rules).
 * The decoder throws LIONCTR_BAD_INPUT with reason `missing_label`, `bad_label`,
 * `bad_feature` (a token not `idx:val` / `field:idx:val` with non-negative integer idx and
 * field), `bad_number` (val not a finite number), `unknown_field` (a field beyond the
 * schema's slots, or an index below fieldStarts[0]) or `duplicate_field` (two features of
 * one slot in a line: a slot holds one value). eventTimeMs is null (the formats carry no time).
 * Throws TypeError for fieldStarts that are not ascending non-negative integers.
 */
export function createSparseDecoder(
  format: SparseFormat,
  schema: SlotSchema,
  opts: SparseDecoderOptions = {},
): (line: string, where: string) => DecodedRow {
  const starts = format === 'libsvm' ? (opts.fieldStarts ?? []) : [];
  starts.forEach((s, i) => {
    if (!Number.isInteger(s) || s < 0 || (i > 0 && s <= starts[i - 1]))
      throw new TypeError(`fieldStarts must be strictly ascending integers >= 0, got ${JSON.stringify(starts)}`);
  });
  const nNum = schema.numeric.length;
  const slots = [...schema.numeric, ...schema.categorical];
  const S = slots.length;
  const parts = format === 'libffm' ? 3 : 2;
  const shape = format === 'libffm' ? 'field:idx:val' : 'idx:val';
  const dropped = new Set<number>();
  const seen = new Int32Array(S);
  let stamp = 0;

  const fieldOf = (idx: number, where: string): number => {
    if (starts.length === 0) return idx;
    let lo = 0,
      hi = starts.length - 1;
    if (idx < starts[0])
      throw badInput('unknown_field', `feature index ${idx} is below the first field start ${starts[0]}`, where);
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= idx) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };

  return (line, where) => {
    const toks = line.trim().split(SPACE);
    const label = parseSparseLabel(toks[0], where);
    const numeric = new Array<number | null>(nNum).fill(null);
    const categorical = new Array<string | null>(S - nNum).fill(null);
    stamp++;
    for (let t = 1; t < toks.length; t++) {
      const tok = toks[t];
      if (tok.charCodeAt(0) === 35) break; // '#': an SVMlight comment runs to the end of the line
      const p = tok.split(':');
      if (p.length !== parts || !DIGITS.test(p[0]) || (parts === 3 && !DIGITS.test(p[1])))
        throw badInput('bad_feature', `feature ${JSON.stringify(tok.slice(0, 40))} is not ${shape}`, where);
      const idxText = p[parts - 2];
      const field = parts === 3 ? Number(p[0]) : fieldOf(Number(idxText), where);
      if (field >= S)
        throw badInput(
          'unknown_field',
          `feature ${JSON.stringify(tok.slice(0, 40))} is field ${field}, but the schema has ${S} slots (0..${S - 1})` +
            (parts === 2 && starts.length === 0 ? '; source.libsvm.fieldStarts maps index ranges to slots' : ''),
          where,
        );
      if (seen[field] === stamp)
        throw badInput('duplicate_field', `slot ${slots[field]} (field ${field}) has two features in one line`, where);
      seen[field] = stamp;
      const val = parseNumericCell(p[parts - 1], slots[field], where);
      if (val === null) throw badInput('bad_number', `feature ${JSON.stringify(tok.slice(0, 40))} has no value`, where);
      if (field < nNum) {
        numeric[field] = val;
      } else if (val !== 0) {
        categorical[field - nNum] = idxText.length > 1 ? idxText.replace(LEADING_ZEROS, '') : idxText;
        if (val !== 1 && !dropped.has(field)) {
          dropped.add(field);
          opts.onDroppedValue?.(slots[field], where);
        }
      }
    }
    return { label, eventTimeMs: null, numeric, categorical };
  };
}
