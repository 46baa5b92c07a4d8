/**
 * Reading a file as its non-empty lines, bytes as they are (for `lionctr produce`, which
 * replays each line as one Kafka message: produce-file.ts).
 */
import { createReadStream } from 'node:fs';

/**
 * The non-empty lines of a file as Buffers (bytes as they are, without "\n" or "\r\n"),
 * read in 1 MiB chunks. A yielded Buffer may be a view into the chunk: copy it to keep it
 * past the next line.
 * @throws Error (ENOENT, EISDIR...) from the read stream when the file cannot be read.
 */
export async function* fileLines(path: string): AsyncGenerator<Buffer> {
  let rest = Buffer.alloc(0);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
      const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
      if (end > start) yield buf.subarray(start, end);
      start = nl + 1;
    }
    rest = Buffer.from(buf.subarray(start));
  }
  const end = rest.length && rest[rest.length - 1] === 13 ? rest.length - 1 : rest.length;
  if (end > 0) yield rest.subarray(0, end);
}

/**
 * Messages produceFile would send for a file: its non-empty lines after `skip`, at most
 * `limit` (0 = all); reads the whole file.
 * @throws Error from the read stream when the file cannot be read (as fileLines).
 */
export async function countMessages(path: string, skip = 0, limit = 0): Promise<number> {
  let n = 0;
  for await (const _ of fileLines(path)) n++;
  n = Math.max(0, n - skip);
  return limit ? Math.min(n, limit) : n;
}
