/**
 * Counts of bad rows a source skipped, by reason (`bad_json`, `missing_label`, ...): what is
 * new since the last look (the `ingest` event) and the run's totals (TrainSummary.badRows).
 */

/** Rows per reason. */
export type BadRowCounts = Record<string, number>;

/** The reasons whose count in `now` grew since `seen`, with the increase (cumulative counts in, deltas out). */
export function badRowsSince(now: BadRowCounts, seen: BadRowCounts): BadRowCounts {
  const delta: BadRowCounts = {};
  for (const [k, v] of Object.entries(now)) if (v > (seen[k] ?? 0)) delta[k] = v - (seen[k] ?? 0);
  return delta;
}

/** Adds `counts` into `total`, in place. */
export function addBadRows(total: BadRowCounts, counts: BadRowCounts): void {
  for (const [k, v] of Object.entries(counts)) total[k] = (total[k] ?? 0) + v;
}
