/**
 * Durable writes for checkpoints and exports (DESIGN.md "Exports and serving": written to a temp
 * dir that is fsynced and renamed into place): a file written and fsynced, a directory fsynced so
 * that the entries created or renamed in it survive a power cut. A failure names the path and
 * the operation (Node's FileHandle errors name neither: `ENOSPC: no space left on device, write`):
 * LionctrError LIONCTR_WRITE_FAILED, its `reason` the system code (ENOSPC, EDQUOT, EIO, ...).
 */
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LionctrError } from '../errors.ts';

/**
 * A filesystem error `e` of operation `op` (e.g. `write of 1.2 MB`) on `path`, as LionctrError
 * LIONCTR_WRITE_FAILED (`where` the path, `reason` the system code, `cause` the original).
 * An error that is already one, or not a filesystem error (no `syscall`), is returned as is.
 */
export function writeFault(e: unknown, op: string, path: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (e instanceof LionctrError || typeof err?.syscall !== 'string') return e;
  return new LionctrError('LIONCTR_WRITE_FAILED', `${op} failed: ${err.message}`, {
    where: path,
    reason: err.code,
    cause: e,
  });
}

/**
 * True when `e` is a failed filesystem write (LIONCTR_WRITE_FAILED, or a Node system error with a
 * `syscall`: mkdir, rename, open ...), one that a later try may get past (a disk freed), as
 * opposed to a bug or a diverged model. Reads the code, not the class (errors may cross threads).
 */
export function isWriteFault(e: unknown): boolean {
  const err = e as { code?: unknown; syscall?: unknown } | null;
  return err?.code === 'LIONCTR_WRITE_FAILED' || (typeof err?.syscall === 'string' && typeof err?.code === 'string');
}

/** A size for messages: `812 B`, `3.4 MB`. */
const sizeOf = (data: Uint8Array | string): string => {
  const n = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  return n < 1e5 ? `${n} B` : `${(n / 1e6).toFixed(1)} MB`;
};

/**
 * Writes `data` to `path` and fsyncs it.
 * @throws LionctrError LIONCTR_WRITE_FAILED naming `path` and the step that failed (open, write
 *   of N bytes, fsync, close); a partly written file is left for the caller's temp dir cleanup.
 */
export async function writeDurable(path: string, data: Uint8Array | string): Promise<void> {
  let op = 'open for writing';
  try {
    const fh = await open(path, 'w');
    try {
      op = `write of ${sizeOf(data)}`;
      await fh.writeFile(data);
      op = 'fsync';
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw writeFault(e, op, path);
  }
}

/**
 * fsyncs a directory so that renames in it are durable.
 * @throws LionctrError LIONCTR_WRITE_FAILED naming the directory.
 */
export async function syncDir(path: string): Promise<void> {
  try {
    const fh = await open(path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw writeFault(e, 'fsync of the directory', path);
  }
}

/**
 * Runs `write`, which fills the temp directory `tmp`; when it fails, removes `tmp` at once (a
 * full disk must not keep the bytes of a write that will be tried again) and rethrows.
 * @param what what is being written, e.g. `checkpoint step 120 under /ckpt`, for the message.
 * @throws a filesystem error of `write` as LionctrError LIONCTR_WRITE_FAILED `<what>: <what
 *   failed, and where>` (reason: the system code); any other error as it is.
 */
export async function inTempDir<T>(tmp: string, what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw inWrite(e, what);
  }
}

/**
 * A filesystem error `e` met while writing `what` (e.g. `checkpoint step 120 under /ckpt`), as
 * LionctrError LIONCTR_WRITE_FAILED `<what>: <its message>` (reason: the system code); any other
 * error as it is.
 */
export function inWrite(e: unknown, what: string): unknown {
  if (!isWriteFault(e)) return e;
  const err = e as Error & { reason?: string; code?: string };
  const reason = err instanceof LionctrError ? err.reason : err.code;
  return new LionctrError('LIONCTR_WRITE_FAILED', `${what}: ${err.message}`, { reason, cause: e });
}

/**
 * Replaces `<dir>/<name>` with `text` atomically: written durably to `<dir>/.<name>.tmp`, renamed
 * over it (the caller fsyncs `dir`, syncDir, to make the rename durable). On failure the temp
 * file is removed and `name` is unchanged.
 * @throws LionctrError LIONCTR_WRITE_FAILED naming the file.
 */
export async function replaceDurable(dir: string, name: string, text: string): Promise<void> {
  const tmp = join(dir, `.${name}.tmp`);
  try {
    await writeDurable(tmp, text);
    await rename(tmp, join(dir, name));
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    throw writeFault(e, `replacing ${name}`, join(dir, name));
  }
}
