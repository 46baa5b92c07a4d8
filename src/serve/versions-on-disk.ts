/**
 * What an exports root holds now, as the model registry asks it (src/serve/model-registry.ts):
 * the version directories on disk, and whether a version that failed to load was superseded
 * (pruned by the trainer after LATEST moved on) rather than bad.
 */
import { readdir, stat } from 'node:fs/promises';
import { confinedPath, VERSION_NAME } from '../model/export-paths.ts';
import { readLatest } from '../model/export-reader.ts';
import { newestFirst } from './version-policy.ts';

/** Version names (digits) under `root`, newest first; [] when it cannot be read. */
export async function versionsOnDisk(root: string): Promise<string[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  return newestFirst(names.filter((n) => VERSION_NAME.test(n)));
}

/**
 * True when `version` is gone from `root` and LATEST names another version: the trainer pruned
 * it (src/train/export-files.ts pruneVersions) after publishing a newer one, so a load that
 * lost a file to it should follow LATEST instead of counting a failure.
 */
export async function supersededBy(root: string, version: string): Promise<boolean> {
  const gone = await stat(confinedPath(root, version)).then(
    () => false,
    (e: NodeJS.ErrnoException) => e.code === 'ENOENT',
  );
  if (!gone) return false;
  const latest = await readLatest(root).catch(() => null);
  return latest !== null && latest !== version;
}
