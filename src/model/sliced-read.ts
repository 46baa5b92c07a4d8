/**
 * Work of a model load in slices, so that a server loading a new version beside the one it
 * serves keeps answering: a Slicer lets the event loop run (setImmediate) once a slice has
 * computed for SLICE_MS, and readHashed reads and hashes a file in chunks with such pauses
 * between them. Under saturating request load, an `fs.promises` read waits behind the request
 * queue at each of its several callbacks; synchronous chunks with few pauses do not.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Longest stretch (ms) a load computes before it lets the event loop serve requests. */
export const SLICE_MS = 10;

/** Bytes read (and hashed) per chunk. */
const CHUNK = 8 << 20;

/** Tells a sliced computation when to pause; see the module doc. */
export class Slicer {
  private start = performance.now();

  /** Pauses for one turn of the event loop when the current slice has run SLICE_MS or more. */
  async pause(): Promise<void> {
    if (performance.now() - this.start < SLICE_MS) return;
    await new Promise((r) => setImmediate(r));
    this.start = performance.now();
  }
}

/**
 * Reads a whole file in CHUNK pieces (pausing between them through `slicer`) and hashes it.
 * @returns the bytes and their sha256 (hex).
 * @throws the filesystem's error (ENOENT, EACCES, ...) as it comes.
 */
export async function readHashed(path: string, slicer: Slicer): Promise<{ bytes: Buffer; sha256: string }> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const bytes = Buffer.allocUnsafe(size);
    const hash = createHash('sha256');
    let o = 0;
    while (o < size) {
      const n = readSync(fd, bytes, o, Math.min(CHUNK, size - o), o);
      if (n === 0) break; // shorter than fstat said: the hash tells
      hash.update(bytes.subarray(o, o + n));
      o += n;
      await slicer.pause();
    }
    return { bytes: bytes.subarray(0, o), sha256: hash.digest('hex') };
  } finally {
    closeSync(fd);
  }
}
