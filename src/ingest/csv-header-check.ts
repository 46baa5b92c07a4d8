/**
 * @module A CSV file's columns checked against the schema before a command creates anything
 * (`train` calls it beside its input check): the header line (or `source.csv.columns`) goes
 * through the same csvColumnMap as the file source, so a mismatch is refused up front, naming
 * the missing slots and the unconfigured columns, instead of after the trainer has started.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { csvColumnMap, namedColumnMap } from './csv-decoder.ts';
import { delimiterOf, type InputColumns } from './input-columns.ts';
import type { SlotSchema } from './source.ts';

/** Bytes read to find the header line. */
const HEAD_BYTES = 1 << 20;

/**
 * Checks the columns of the CSV file `path` (its first record, or `cols.csv.columns` when it has
 * no header) for `schema`.
 * @throws LionctrError LIONCTR_BAD_INPUT as csvColumnMap does (missing label, missing slots,
 *   unconfigured columns, duplicates; nothing when the file is empty), LIONCTR_BAD_CONFIG as
 *   namedColumnMap does.
 */
export function checkCsvColumns(path: string, schema: SlotSchema, cols: InputColumns): void {
  if (namedColumnMap(schema, cols) !== null) return;
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(HEAD_BYTES);
  let n: number;
  try {
    n = readSync(fd, buf, 0, HEAD_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  const text = buf.subarray(0, n).toString('utf8');
  let records: string[][];
  try {
    records = parse(text, {
      delimiter: delimiterOf(cols.csv.delimiter),
      bom: true,
      to: 1,
      relax_column_count: true,
      skip_empty_lines: true,
    });
  } catch {
    return; // a header over 1 MiB or bad quoting: the file source reports it
  }
  if (records.length > 0) csvColumnMap(records[0], schema, `${path}:1`, cols);
}
