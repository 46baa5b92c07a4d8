/** Shared helpers of the line decoders: typed LIONCTR_BAD_INPUT errors and number parsing. */
import { LionctrError } from '../errors.ts';
import { parseNumber } from '../features/numeric.ts';
import type { BadReason } from './bad-reasons.ts';

/**
 * A LionctrError('LIONCTR_BAD_INPUT') for a bad record or input at `where` (e.g. `file:line`),
 * with a machine-readable `reason` from bad-reasons.ts (e.g. bad_json, missing_label,
 * bad_number) and the underlying error as `cause` when there is one.
 */
export function badInput(reason: BadReason, message: string, where: string, cause?: unknown): LionctrError {
  return new LionctrError('LIONCTR_BAD_INPUT', message, { where, reason, cause });
}

/**
 * Parses a numeric cell with parseNumber (src/features/numeric.ts, shared with serving): ''
 * and whitespace only -> null (missing); a finite decimal number (optional sign, fraction,
 * exponent; surrounding spaces allowed) -> number. Throws LIONCTR_BAD_INPUT `bad_number`
 * naming `field` otherwise (e.g. "abc", "1x", "NaN", "Infinity", "0x10").
 */
export function parseNumericCell(s: string, field: string, where: string): number | null {
  const v = parseNumber(s);
  if (v === undefined) throw badInput('bad_number', `${field}: not a number: ${JSON.stringify(s.slice(0, 40))}`, where);
  return v;
}

/** Parses a label cell: exactly "0" or "1" (surrounding spaces allowed); throws `missing_label` / `bad_label`. */
export function parseLabelCell(s: string | undefined, where: string): 0 | 1 {
  if (s === undefined) throw badInput('missing_label', 'label is missing', where);
  if (s === '0') return 0;
  if (s === '1') return 1;
  const t = s.trim();
  if (t === '') throw badInput('missing_label', 'label is empty', where);
  if (t === '0') return 0;
  if (t === '1') return 1;
  throw badInput('bad_label', `label must be 0 or 1, got ${JSON.stringify(t.slice(0, 40))}`, where);
}

/**
 * Reads a sample weight (`schema.weight`): undefined, null, '' and whitespace only -> undefined
 * (weight 1); a finite number >= 0, or a string parseNumber reads as one -> that number.
 * Throws LIONCTR_BAD_INPUT `bad_weight` naming `column` otherwise (negative, NaN, Infinity,
 * "abc", true, an object).
 */
export function parseWeightValue(v: unknown, column: string, where: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  let w: number | null | undefined;
  if (typeof v === 'number') w = v;
  else if (typeof v === 'string') w = parseNumber(v);
  if (w === null) return undefined;
  if (w === undefined || !Number.isFinite(w) || w < 0)
    throw badInput(
      'bad_weight',
      `${column}: a sample weight must be a finite number >= 0, got ${JSON.stringify(v)?.slice(0, 40) ?? String(v)}`,
      where,
    );
  return w;
}
