/**
 * Criteo-style numeric transforms (the 2014 Kaggle winners' recipe, also used by the
 * reference figures in ../shared/data/criteo-10k/README.md).
 */

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
