/**
 * Criteo-style numeric transforms (the 2014 Kaggle winners' recipe, also used by the
 * reference figures in ../shared/data/criteo-10k/README.md).
 */

/**
 * Bucket token of one numeric value, usable as a categorical value of its slot:
 * `b<floor(ln(x)^2)>` for x > 2, `=<x>` for x <= 2 (small counts and negatives keep their
 * own value), `null` for a missing value (NaN or null).
 * Units: x is the raw count; the token is an opaque string hashed with its slot.
 */
export function numericBucket(x: number | null | undefined): string | null {
  if (x === null || x === undefined || Number.isNaN(x)) return null;
  if (x > 2) return `b${Math.floor(Math.log(x) ** 2)}`;
  return `=${String(x)}`;
}

/**
 * Dense input of one numeric value for the tower: ln(1 + max(x, 0)), 0 when missing.
 * Keeps counts in a range an MLP trains on without a learned normaliser.
 */
export function numericDense(x: number | null | undefined): number {
  if (x === null || x === undefined || Number.isNaN(x)) return 0;
  return Math.log1p(Math.max(x, 0));
}
