/**
 * The pending records of the file source (a row's position and a lazy decoder) and the
 * line reader of the line formats (criteo, jsonl, libsvm, libffm): non-blank lines of a
 * possibly gzip-compressed text file with their 1-based line numbers.
 */
import type { DecodedRow } from './source.ts';
import { openInput } from './input-stream.ts';

/**
 * One data row before decoding: its 1-based position (line, or Arrow row) and a lazy
 * decoder (skipped rows are never decoded).
 */
export interface PendingRecord {
  line: number;
  decode(): DecodedRow;
}

/**
 * Non-blank lines of the text file `path` (gzip-compressed or not: input-stream.ts), in
 * chunks (one per read buffer, to keep await overhead per chunk not per line), each with
 * its 1-based line number; '\r\n' endings and a leading BOM are handled. The decoder gets
 * `path:line` as `where`. Throws LIONCTR_BAD_INPUT naming the path, byte and last line read
 * when the file cannot be read or its gzip data is truncated or corrupt.
 */
export async function* lineRecords(
  path: string,
  decode: (line: string, where: string) => DecodedRow,
): AsyncGenerator<PendingRecord[]> {
  const input = openInput(path);
  const stream = input.stream;
  stream.setEncoding('utf8');
  let rest = '';
  let lineNo = 0;
  let first = true;
  const make = (text: string, n: number): PendingRecord => ({ line: n, decode: () => decode(text, `${path}:${n}`) });
  try {
    const chunks = stream[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<string>;
      try {
        next = await chunks.next();
      } catch (e) {
        throw input.fail(e, `line ${lineNo}`);
      }
      if (next.done) break;
      let text = rest + next.value;
      if (first) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      const out: PendingRecord[] = [];
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        lineNo++;
        const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        if (end > start) out.push(make(text.slice(start, end), lineNo));
        start = nl + 1;
      }
      rest = text.slice(start);
      if (out.length > 0) yield out;
    }
    if (rest.length > 0) {
      lineNo++;
      const t = rest.charCodeAt(rest.length - 1) === 13 ? rest.slice(0, -1) : rest;
      if (t.length > 0) yield [make(t, lineNo)];
    }
  } finally {
    stream.destroy();
  }
}
