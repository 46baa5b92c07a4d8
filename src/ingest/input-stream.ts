/**
 * Opening an input file as a byte stream: gzip-compressed files (found by their magic bytes
 * 1f 8b, whatever their name) are decompressed on the fly (zlib, multi-member), others read
 * as they are; a read or decompression failure becomes one LIONCTR_BAD_INPUT naming the
 * file, the compressed byte and the line where it broke.
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync, type ReadStream } from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { LionctrError } from '../errors.ts';
import { badInput } from './decode-util.ts';

/** An opened input: its (decompressed) byte stream and how to report a failure of it. */
export interface InputStream {
  /** The bytes of the file, decompressed when `gzip`. */
  readonly stream: Readable;
  /** True when the file is gzip-compressed (starts with 1f 8b). */
  readonly gzip: boolean;
  /**
   * The error to throw for `err`, met while reading the stream after `at` (e.g. `line 812`):
   * `err` itself when it is already a LionctrError, else LIONCTR_BAD_INPUT (reason
   * `bad_input`) naming the path, the compressed bytes read so far of the file's size, and `at`.
   */
  fail(err: unknown, at: string): Error;
}

/** True when `e` comes from zlib (its codes are Z_DATA_ERROR, Z_BUF_ERROR, ...). */
export function isZlibError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

/** True when the first two bytes of `path` are gzip's magic 1f 8b (false for shorter files). */
export function isGzipFile(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens `path` for streaming (highWaterMark bytes per read, default 1 MiB). Throws
 * LIONCTR_BAD_INPUT (reason `missing_file`) when it cannot be opened.
 */
export function openInput(path: string, highWaterMark = 1 << 20): InputStream {
  let gzip: boolean;
  try {
    gzip = isGzipFile(path);
  } catch (e) {
    throw badInput('missing_file', `cannot read input file ${path}: ${(e as Error).message}`, path, e);
  }
  const raw: ReadStream = createReadStream(path, { highWaterMark });
  let size = -1;
  raw.on('open', (fd) => {
    try {
      size = fstatSync(fd).size;
    } catch {
      size = -1;
    }
  });
  const stream = gzip ? pipeline(raw, createGunzip({ chunkSize: 1 << 16 }), () => {}) : raw;
  const fail = (err: unknown, at: string): Error => {
    if (err instanceof LionctrError) return err;
    const e = err as NodeJS.ErrnoException;
    const of = size >= 0 ? ` of ${size}` : '';
    const what =
      gzip && isZlibError(e) ? 'gzip data is truncated or corrupt at compressed byte' : 'read failed at byte';
    return badInput(
      'bad_input',
      `input file ${path}: ${what} ${raw.bytesRead}${of} (after ${at}): ${e?.message ?? String(err)}`,
      `${path}:${at}`,
      err,
    );
  };
  return { stream, gzip, fail };
}
