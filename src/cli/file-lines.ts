/**
 * Reading a file as its non-empty lines, bytes as they are (for `lionctr produce`, which
 * replays each line as one Kafka message: produce-file.ts); a gzip-compressed file is
 * decompressed as it is read (src/ingest/input-stream.ts).
 */
import { openInput } from '../ingest/input-stream.ts';

/**
 * The non-empty lines of a file (gzip-compressed or not) as Buffers (bytes as they are,
 * without "\n" or "\r\n"), read in 1 MiB chunks. A yielded Buffer may be a view into the
 * chunk: copy it to keep it past the next line.
 * @throws LionctrError LIONCTR_BAD_INPUT naming the file when it cannot be opened or read, or
 *   its gzip data is truncated or corrupt (the byte and the last line read named).
 */
export async function* fileLines(path: string): AsyncGenerator<Buffer> {
  let rest = Buffer.alloc(0);
  const input = openInput(path);
  let lines = 0;
  try {
    const chunks = (input.stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (e) {
        throw input.fail(e, `line ${lines}`);
      }
      if (next.done) break;
      const chunk = next.value;
      const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
      let start = 0;
      for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
        lines++;
        const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
        if (end > start) yield buf.subarray(start, end);
        start = nl + 1;
      }
      rest = Buffer.from(buf.subarray(start));
    }
    const end = rest.length && rest[rest.length - 1] === 13 ? rest.length - 1 : rest.length;
    if (end > 0) yield rest.subarray(0, end);
  } finally {
    input.stream.destroy();
  }
}

/**
 * Messages produceFile would send for a file: its non-empty lines after `skip`, at most
 * `limit` (0 = all); reads the whole file.
 * @throws LionctrError LIONCTR_BAD_INPUT as fileLines.
 */
export async function countMessages(path: string, skip = 0, limit = 0): Promise<number> {
  let n = 0;
  for await (const _ of fileLines(path)) n++;
  n = Math.max(0, n - skip);
  return limit ? Math.min(n, limit) : n;
}
