/**
 * Which export versions the model registry keeps loaded: TF Serving's "latest N" version
 * policy (tensorflow_serving/core/servable_state_monitor + aspired_version_policy), adapted to
 * lionctr's LATEST file, plus the versions that labels pin. Pure functions over version
 * strings (decimal integers, compared as numbers).
 */

/** Versions (decimal integers) newest first, compared as numbers. */
export const newestFirst = (versions: Iterable<string>): string[] =>
  [...versions].sort((a, b) => {
    const x = BigInt(a),
      y = BigInt(b);
    return x > y ? -1 : x < y ? 1 : 0;
  });

/**
 * The versions to keep loaded, given the loaded ones: `current` (the version LATEST names,
 * served by default), the newest `keep - 1` others that no label names, and every loaded
 * version a label names (labelled versions come on top of the "latest N").
 * @param loaded versions loaded now (current among them).
 * @param keep serve.keepVersions, >= 1.
 * @param pinned versions named by labels.
 * @returns the kept versions, newest first.
 */
export function versionsToKeep(
  loaded: Iterable<string>,
  current: string,
  keep: number,
  pinned: ReadonlySet<string>,
): string[] {
  const all = [...loaded];
  const others = newestFirst(all.filter((v) => v !== current && !pinned.has(v)));
  return newestFirst([current, ...others.slice(0, Math.max(0, keep - 1)), ...all.filter((v) => pinned.has(v))]);
}

/**
 * The versions worth loading besides LATEST's at start-up: labelled versions present on disk
 * (any age), then the versions older than `latest`, newest first. Versions newer than
 * `latest` are never candidates (LATEST was moved back on purpose). The caller loads the
 * labelled ones and older ones until `keep - 1` others are loaded (versionsToKeep decides).
 * @param onDisk names under the exports root (non-version names are ignored).
 * @param latest the version LATEST names.
 * @param pinned versions named by labels.
 * @param loaded versions loaded already (skipped).
 */
export function fillCandidates(
  onDisk: Iterable<string>,
  latest: string,
  pinned: ReadonlySet<string>,
  loaded: ReadonlySet<string>,
): string[] {
  const disk = newestFirst([...new Set(onDisk)].filter((v) => /^\d+$/.test(v) && v !== latest && !loaded.has(v)));
  const older = (v: string) => newestFirst([v, latest])[0] === latest;
  return [...disk.filter((v) => pinned.has(v)), ...disk.filter((v) => !pinned.has(v) && older(v))];
}
