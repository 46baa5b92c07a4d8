/**
 * JSON-lines test input: rows made from the line index, one JSON text per line, ready to be
 * written to a file (joined by newlines) for a file source with format "jsonl".
 */

/** `n` lines, line i the JSON text of `row(i)`. */
export const jsonLines = (n: number, row: (i: number) => unknown): string[] =>
  Array.from({ length: n }, (_, i) => JSON.stringify(row(i)));
