/**
 * File sources: Criteo TSV, CSV with a header, JSON lines, libSVM/libFM, libFFM (each
 * gzip-compressed or not) or Arrow IPC, streamed (never read whole) into Arrow RecordBatches.
 * Bad rows are counted by reason, warned about (once per reason, at most 5 lines per
 * source), and skipped; they never stop the stream.
 *
 * Positions: source_partition 0, source_offset = the 1-based line number of the row in the
 * file (the CSV header is line 1; a CSV record with quoted newlines gets the line it ends
 * on; an Arrow input's row gets its 1-based row number). Blank lines are skipped silently
 * (not rows, not bad) but keep their line numbers.
 */
import { statSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parse as csvParse } from 'csv-parse';
import type { RecordBatch } from 'apache-arrow';
import { LionctrError } from '../errors.ts';
import { CRITEO_CATEGORICAL, CRITEO_NUMERIC } from '../features/schema.ts';
import type { DecodedRow, SlotSchema, Source } from './source.ts';
import { RecordBatchBuilder } from './arrow/record-batch-builder.ts';
import { arrowRecords } from './arrow-records.ts';
import { badReasonOf, type BadReason } from './bad-reasons.ts';
import { FILE_FORMATS, type FileFormat } from './config.ts';
import { decodeCriteoLine } from './criteo-decoder.ts';
import { badInput } from './decode-util.ts';
import { openInput } from './input-stream.ts';
import { createJsonlDecoder } from './jsonl-decoder.ts';
import { csvColumnMap, decodeCsvRecord, namedColumnMap, type CsvColumnMap } from './csv-decoder.ts';
import { defaultInputColumns, delimiterOf, type InputColumns } from './input-columns.ts';
import { lineRecords, type PendingRecord } from './line-records.ts';
import { createSparseDecoder } from './sparse-decoder.ts';

export type { FileFormat } from './config.ts';

/** Options of createFileSource. */
export interface FileSourceOptions {
  /** Path of the file (relative paths resolve against the process cwd). */
  path: string;
  format: FileFormat;
  /** Slots to emit. For 'criteo' it must have 13 numeric and 26 categorical slots (mapped by position). */
  schema: SlotSchema;
  /** Data rows (lines after the CSV header, blank lines excluded) to pass over first, undecoded; default 0. */
  skip?: number;
  /** Max good rows to yield after skipping; default unlimited. */
  limit?: number;
  /** Resume: lines before this 1-based line number are passed over undecoded (after `skip`); default 1. */
  fromLine?: number;
  /** Label, time and ignored columns, CSV layout (schema.label/time/ignore, source.csv); default: the defaults. */
  columns?: InputColumns;
  /** libsvm: first feature index of each field (`source.libsvm.fieldStarts`; sparse-decoder.ts); default []. */
  fieldStarts?: readonly number[];
}

/** At most this many warning lines per source. */
const MAX_WARN_LINES = 5;

/** The name of the file source of `path` (`file:<path>`): its Source.name, the source part of its position keys. */
export const fileSourceName = (path: string): string => `file:${path}`;

/**
 * A Source reading `opts.path` in `opts.format`. `stats().rows` counts the good rows
 * yielded, `stats().bad` the rows skipped as bad by reason (rows passed over by `skip`
 * are in neither). Each call of batches() reads the file again from the start.
 * Throws LIONCTR_BAD_INPUT naming the path when the file is missing or not a regular
 * file (here and, if it vanished since, from batches()); LIONCTR_BAD_CONFIG on a bad
 * format, skip/limit, or a schema that doesn't fit the format. A CSV file whose header
 * lacks `label` makes batches() throw LIONCTR_BAD_INPUT (the whole file is unusable).
 */
export function createFileSource(opts: FileSourceOptions): Source {
  const { path, format, schema } = opts;
  const cols = opts.columns ?? defaultInputColumns();
  const skip = opts.skip ?? 0;
  const limit = opts.limit ?? Infinity;
  const fromLine = opts.fromLine ?? 1;
  if (!Number.isInteger(skip) || skip < 0)
    throw new LionctrError('LIONCTR_BAD_CONFIG', `skip must be a non-negative integer, got ${skip}`, { where: 'skip' });
  if (!(limit === Infinity || (Number.isInteger(limit) && limit >= 0)))
    throw new LionctrError('LIONCTR_BAD_CONFIG', `limit must be a non-negative integer, got ${limit}`, {
      where: 'limit',
    });
  if (!(FILE_FORMATS as readonly string[]).includes(format)) {
    const known = FILE_FORMATS.join(', ');
    throw new LionctrError('LIONCTR_BAD_CONFIG', `unknown file format ${JSON.stringify(format)} (${known})`, {
      where: 'format',
    });
  }
  if (
    format === 'criteo' &&
    (schema.numeric.length !== CRITEO_NUMERIC || schema.categorical.length !== CRITEO_CATEGORICAL)
  ) {
    throw new LionctrError(
      'LIONCTR_BAD_CONFIG',
      `the criteo format needs a schema of ${CRITEO_NUMERIC} numeric and ${CRITEO_CATEGORICAL} categorical slots, ` +
        `got ${schema.numeric.length} and ${schema.categorical.length}`,
      { where: 'schema' },
    );
  }
  checkFile(path, (p) => statSync(p));

  let rows = 0;
  const bad: Record<string, number> = {};
  let warnLines = 0;
  const warnedReasons = new Set<string>();

  const onBad = (reason: BadReason, message: string): void => {
    bad[reason] = (bad[reason] ?? 0) + 1;
    if (warnedReasons.has(reason) || warnLines >= MAX_WARN_LINES) return;
    warnedReasons.add(reason);
    warnLines++;
    const tail =
      warnLines === MAX_WARN_LINES
        ? ' (no further ingest warnings for this file; see stats().bad)'
        : ' (further rows with this reason are counted silently)';
    console.warn(`lionctr ingest: skipped bad row [${reason}]: ${message}${tail}`);
  };

  const source: Source = {
    name: fileSourceName(path),
    stats: () => ({ rows, bad: { ...bad } }),
    async *batches({ batchSize, signal }): AsyncIterable<RecordBatch> {
      if (!Number.isInteger(batchSize) || batchSize < 1)
        throw new LionctrError('LIONCTR_BAD_CONFIG', `batchSize must be a positive integer, got ${batchSize}`, {
          where: 'batchSize',
        });
      const st = await stat(path).catch((e: unknown) => e as NodeJS.ErrnoException);
      checkFile(path, () => st);
      if (limit === 0) return;

      let builder = new RecordBatchBuilder(schema, batchSize);
      let seen = 0; // data rows met so far (good or bad)
      let yielded = 0;
      const records = recordsOf(opts, onBad, cols);
      for await (const chunk of records) {
        if (signal?.aborted) return;
        for (const rec of chunk) {
          if (seen++ < skip || rec.line < fromLine) continue;
          let row: DecodedRow;
          try {
            row = rec.decode();
          } catch (e) {
            if (e instanceof LionctrError && e.code === 'LIONCTR_BAD_INPUT') {
              onBad(badReasonOf(e), e.message);
              continue;
            }
            throw e;
          }
          builder.pushRow(row, 0, rec.line);
          rows++;
          yielded++;
          if (builder.full) {
            yield builder.finish();
            builder = new RecordBatchBuilder(schema, batchSize);
            if (signal?.aborted) return;
          }
          if (yielded >= limit) break;
        }
        if (yielded >= limit) break;
      }
      if (builder.length > 0 && !signal?.aborted) yield builder.finish();
    },
  };
  return source;
}

/** Throws LIONCTR_BAD_INPUT naming `path` unless statFn gives a regular file. */
function checkFile(path: string, statFn: (p: string) => Stats | NodeJS.ErrnoException): void {
  let st: Stats | NodeJS.ErrnoException;
  try {
    st = statFn(path);
  } catch (e) {
    st = e as NodeJS.ErrnoException;
  }
  if (st instanceof Error) {
    const why = st.code === 'ENOENT' ? 'no such file' : st.message;
    throw badInput('missing_file', `cannot read input file ${path}: ${why}`, path, st);
  }
  if (!st.isFile()) throw badInput('missing_file', `input ${path} is not a regular file`, path);
}

/** The pending records of `opts.path` in its format (bad CSV records go to `onBad`). */
function recordsOf(
  opts: FileSourceOptions,
  onBad: (reason: BadReason, message: string) => void,
  cols: InputColumns,
): AsyncGenerator<PendingRecord[]> {
  const { path, format, schema } = opts;
  const unknownSlot = (slot: string, where: string) =>
    console.warn(
      `lionctr ingest: rows carry slot "${slot}", which the schema does not have; it is ignored ` +
        `(schema.unknownSlots=ignore; first seen at ${where}); list it in schema.ignore to silence this`,
    );
  switch (format) {
    case 'csv':
      return csvRecords(path, schema, onBad, cols);
    case 'arrow':
      return arrowRecords(
        path,
        schema,
        (names) =>
          console.warn(`lionctr ingest: ${path} has columns that are not slots; they are ignored: ${names.join(', ')}`),
        cols.weight,
      );
    case 'libsvm':
    case 'libffm': {
      let warned = false; // one line per source, whichever slot comes first
      const decode = createSparseDecoder(format, schema, {
        fieldStarts: opts.fieldStarts,
        onDroppedValue: (slot, where) => {
          if (warned) return;
          warned = true;
          console.warn(
            `lionctr ingest: categorical slot ${slot} (and maybe others) has feature values other than 0 and 1; ` +
              `a slot holds one id, so the value is not used (the id counts as present; first at ${where})`,
          );
        },
      });
      return lineRecords(path, decode);
    }
    case 'jsonl':
      return lineRecords(
        path,
        createJsonlDecoder(schema, {
          onUnknownSlot: unknownSlot,
          time: cols.time,
          unknownSlots: cols.unknownSlots,
          ignore: cols.ignore,
          weight: cols.weight,
        }),
      );
    default:
      return lineRecords(path, decodeCriteoLine);
  }
}

/**
 * Data records of a CSV file with a header (csv-parse streaming), in chunks of up to 1024,
 * each with the line number the record ends on. Records csv-parse cannot parse (bad
 * quoting) go to `onBad` as `bad_csv`. Throws LIONCTR_BAD_INPUT when the header is unusable.
 */
async function* csvRecords(
  path: string,
  schema: SlotSchema,
  onBad: (reason: BadReason, message: string) => void,
  cols: InputColumns,
): AsyncGenerator<PendingRecord[]> {
  const input = openInput(path);
  const stream = input.stream;
  const parser = csvParse({
    delimiter: delimiterOf(cols.csv.delimiter),
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    bom: true,
    skip_records_with_error: true,
  });
  stream.on('error', (e) => parser.destroy(e));
  parser.on('skip', (e: Error & { lines?: number }) => onBad('bad_csv', `${e.message} (at ${path}:${e.lines ?? '?'})`));
  stream.pipe(parser);
  let map: CsvColumnMap | null = namedColumnMap(schema, cols);
  let out: PendingRecord[] = [];
  let line = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const at = item.info.lines;
      line = at;
      if (map === null) {
        map = csvColumnMap(item.record, schema, `${path}:${at}`, cols);
        continue;
      }
      const m = map;
      const record = item.record;
      out.push({ line: at, decode: () => decodeCsvRecord(record, m, `${path}:${at}`) });
      if (out.length >= 1024) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  } catch (e) {
    throw input.fail(e, `line ${line}`);
  } finally {
    stream.destroy();
    parser.destroy();
  }
}
