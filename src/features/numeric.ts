/**
 * Criteo-style numeric transforms (the 2014 Kaggle winners' recipe, also used by the
 * reference figures in ../shared/data/criteo-10k/README.md), and the one reading of a numeric
 * value written as text that training and serving share (parseNumber).
 */

/**
 * A numeric value written as text, read the same by every decoder of training (CSV/TSV cells,
 * JSON-lines strings, Kafka messages) and by serving (JSON strings): '' and whitespace only
 * -> null (missing); a finite decimal number (optional sign, digits with an optional fraction
 * or a fraction alone, optional exponent; surrounding whitespace allowed) -> its value;
 * anything else -> undefined, not a number ("abc", "1x", "0x10", "0b1", "1_000", "NaN",
 * "Infinity", "1e400", which overflows). Number() alone would take hex, binary and octal.
 */
export function parseNumber(s: string): number | null | undefined {
  const n = s.length;
  if (n === 0) return null;
  // fast path: an optional '-' then ASCII digits only (all of Criteo's integer counts)
  let k = s.charCodeAt(0) === 45 && n > 1 ? 1 : 0;
  for (; k < n; k++) {
    const c = s.charCodeAt(k);
    if (c < 48 || c > 57) break;
  }
  if (k === n) return +s;
  if (DECIMAL.test(s)) {
    const v = +s;
    return Number.isFinite(v) ? v : undefined;
  }
  return s.trim().length === 0 ? null : undefined;
}
const DECIMAL = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/**
 * The constants of numericBucket(), also stated in every export's manifest
 * (featurization-spec.ts): values above `threshold` get `logPrefix` + floor(ln(x)^2),
 * the others `rawPrefix` + String(x).
 */
export const NUMERIC_BUCKET = { threshold: 2, logPrefix: 'b', rawPrefix: '=' } as const;

/**
 * Bucket token of one numeric value, usable as a categorical value of its slot:
 * `b<floor(ln(x)^2)>` for x > 2, `=<x>` for x <= 2 (small counts and negatives keep their
 * own value), `null` for a missing value (NaN or null).
 * Units: x is the raw count; the token is an opaque string hashed with its slot.
 */
export function numericBucket(x: number | null | undefined): string | null {
  if (x === null || x === undefined || Number.isNaN(x)) return null;
  const { threshold, logPrefix, rawPrefix } = NUMERIC_BUCKET;
  if (x > threshold) return `${logPrefix}${Math.floor(Math.log(x) ** 2)}`;
  return `${rawPrefix}${String(x)}`;
}

/**
 * Dense input of one numeric value for the tower: ln(1 + max(x, 0)), 0 when missing.
 * Keeps counts in a range an MLP trains on without a learned normaliser.
 */
export function numericDense(x: number | null | undefined): number {
  if (x === null || x === undefined || Number.isNaN(x)) return 0;
  return Math.log1p(Math.max(x, 0));
}
