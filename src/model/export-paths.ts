/**
 * Names read from disk (LATEST, a manifest's `files`) confined to the exports root, before any
 * file is opened (DESIGN.md "Exports and serving": versions are digits; files are relative paths
 * inside their version). Every reader of exports goes through these: export-reader.ts (serve,
 * eval), src/serve/model-registry.ts, and the delta reader for the files of a delta's manifest.
 */
import { realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { LionctrError } from '../errors.ts';

/** A version directory's name: a decimal integer (ms since epoch at export), as TF Serving's. */
export const VERSION_NAME = /^\d+$/;

/** Longest file entry accepted (bytes of UTF-16 code units); a writer's are under 100. */
const MAX_ENTRY_CHARS = 1024;

/** A path segment a manifest entry may hold: no separators, not `.`/`..`, no NUL. */
const SEGMENT = /^(?!\.{1,2}$)[^/\\\0]+$/;

/**
 * Checks a version name read from LATEST, a directory listing or a manifest.
 * @param where the file the name came from (for the message).
 * @throws LionctrError LIONCTR_BAD_EXPORT unless `version` is digits only.
 */
export function checkVersionName(version: string, where: string): void {
  if (!VERSION_NAME.test(version))
    throw new LionctrError(
      'LIONCTR_BAD_EXPORT',
      `not a version name: ${JSON.stringify(version.slice(0, 80))} (versions are decimal integers)`,
      { where },
    );
}

/**
 * Checks a file entry of a manifest: a relative path of `/`-separated segments, each non-empty and
 * neither `.` nor `..`, without `\` or NUL, at most MAX_ENTRY_CHARS long. Such a path names a
 * file inside its directory whatever the directory is.
 * @param where the manifest it came from (for the message).
 * @throws LionctrError LIONCTR_BAD_EXPORT otherwise (absolute paths, `../x`, `a//b`, ...).
 */
export function checkFileEntry(entry: string, where: string): void {
  const ok =
    typeof entry === 'string' &&
    entry.length > 0 &&
    entry.length <= MAX_ENTRY_CHARS &&
    entry.split('/').every((s) => SEGMENT.test(s));
  if (!ok)
    throw new LionctrError(
      'LIONCTR_BAD_EXPORT',
      `file entry ${JSON.stringify(String(entry).slice(0, 120))} is not a relative path inside the version ` +
        '(no absolute paths, "..", "." or empty segments, "\\" or NUL)',
      { where },
    );
}

/**
 * Checks every key of a manifest's `files` (checkFileEntry), before any of them is opened.
 * @throws LionctrError LIONCTR_BAD_EXPORT naming the first bad entry, or when `files` is not an object.
 */
export function checkFileEntries(files: unknown, where: string): void {
  if (files === null || typeof files !== 'object' || Array.isArray(files))
    throw new LionctrError('LIONCTR_BAD_EXPORT', '"files" must be an object {path: sha256}', { where });
  for (const rel of Object.keys(files)) checkFileEntry(rel, where);
}

/**
 * The path of `entry` (a manifest file entry; omitted: the version directory itself) inside
 * `<root>/<version>`, after checking both names (checkVersionName, checkFileEntry). Pure: touches
 * no file. The delta reader calls it with entries like `delta-3/embeddings/C1.arrow`.
 * @throws LionctrError LIONCTR_BAD_EXPORT for a bad version name or entry.
 */
export function confinedPath(root: string, version: string, entry?: string): string {
  checkVersionName(version, root);
  if (entry === undefined) return join(root, version);
  checkFileEntry(entry, join(root, version));
  return join(root, version, entry);
}

/**
 * `join(dir, entry)` after checkFileEntry, for a reader that holds a directory (a version's, a
 * delta's) rather than a root and a version.
 * @throws LionctrError LIONCTR_BAD_EXPORT for a bad entry.
 */
export function confinedFile(dir: string, entry: string): string {
  checkFileEntry(entry, dir);
  return join(dir, entry);
}

/**
 * A check that a path (which must exist) stays inside `dir` once symbolic links are resolved
 * (both sides): a link planted in an export cannot lead a reader out of it. `dir` is resolved
 * once, here. Opens nothing (realpath reads links, it does not open their targets).
 * @returns check(path): resolves when inside; throws LionctrError LIONCTR_BAD_EXPORT when it
 *   leads outside, the filesystem's error (ENOENT, ...) when a component is missing.
 * @throws the filesystem's error when `dir` cannot be resolved.
 */
export async function insideChecker(dir: string): Promise<(path: string) => Promise<void>> {
  const d = await realpath(dir);
  const prefix = d.endsWith(sep) ? d : d + sep;
  return async (path) => {
    const p = await realpath(path);
    if (p !== d && !p.startsWith(prefix))
      throw new LionctrError('LIONCTR_BAD_EXPORT', `a symbolic link leads outside ${dir} (to ${p})`, { where: path });
  };
}
