/**
 * Arrow IPC input of the file source: the rows of an Arrow IPC file or stream (either is
 * found by its magic; gzip-compressed too) as pending records, columns mapped to the
 * schema by name: `label` (integer, float or bool; 0/1), optional `ts` (ms since the epoch
 * as a number, or an Arrow timestamp), numeric slots (integer or float), categorical slots
 * (utf8, a dictionary of utf8 or integers, or integers), an optional sample-weight column
 * (schema.weight; a number). A missing slot column or a column
 * of the wrong type makes the whole file unusable (an error naming it); bad values count
 * per row.
 */
import { open } from 'node:fs/promises';
import { DataType, RecordBatchReader, type Field, type Schema, type Vector } from 'apache-arrow';
import { LABEL_COLUMN, TS_INPUT_FIELD } from '../features/columns.ts';
import type { DecodedRow, SlotSchema } from './source.ts';
import { LionctrError } from '../errors.ts';
import { badInput, parseWeightValue } from './decode-util.ts';
import { isZlibError, openInput } from './input-stream.ts';
import type { PendingRecord } from './line-records.ts';

/** Accepted range of `ts`, ms since the epoch: 2001-09-09 to 2500-01-01 (as the JSON-lines decoder). */
const MIN_TS_MS = 1e12,
  MAX_TS_MS = 16725225600000;

/** Column positions in the Arrow schema; ts -1 when absent. */
export interface ArrowColumnMap {
  label: number;
  ts: number;
  numeric: number[];
  categorical: number[];
  /** The sample-weight column (schema.weight); -1: none (weight 1). */
  weight: number;
}

const isNumberType = (t: DataType): boolean => DataType.isInt(t) || DataType.isFloat(t);
const isTextType = (t: DataType): boolean => DataType.isUtf8(t) || DataType.isLargeUtf8(t);

/**
 * Maps `schema`'s slots to the Arrow schema's columns by name. Throws LIONCTR_BAD_INPUT
 * naming the file and column(s): `missing_label` (no `label`), `bad_header` (slot columns
 * absent), `wrong_type` (a column of a type its role does not take). `onExtra` hears the
 * names of columns that are neither label, ts, the weight column (`weight`, schema.weight;
 * a number column, optional) nor a slot (they are not read).
 */
export function arrowColumnMap(
  arrow: Schema,
  schema: SlotSchema,
  path: string,
  onExtra?: (names: string[]) => void,
  weight = '',
): ArrowColumnMap {
  const pos = new Map<string, number>();
  for (const [i, f] of arrow.fields.entries()) pos.set(f.name, i);
  const typeError = (f: Field, want: string) =>
    badInput('wrong_type', `Arrow column "${f.name}" is ${f.type}, but ${want}`, `${path} column ${f.name}`);
  const label = pos.get(LABEL_COLUMN);
  if (label === undefined) throw badInput('missing_label', `Arrow input has no "${LABEL_COLUMN}" column`, path);
  const lf = arrow.fields[label];
  if (!isNumberType(lf.type) && !DataType.isBool(lf.type))
    throw typeError(lf, 'a label must be integer, float or bool');
  const ts = pos.get(TS_INPUT_FIELD) ?? -1;
  if (ts >= 0 && !isNumberType(arrow.fields[ts].type) && !DataType.isTimestamp(arrow.fields[ts].type))
    throw typeError(arrow.fields[ts], 'ts must be a number (ms since the epoch) or a timestamp');
  const missing = [...schema.numeric, ...schema.categorical].filter((s) => !pos.has(s));
  if (missing.length > 0)
    throw badInput('bad_header', `Arrow input lacks the column(s) of slot(s) ${missing.join(', ')}`, path);
  const numeric = schema.numeric.map((s) => {
    const i = pos.get(s)!;
    if (!isNumberType(arrow.fields[i].type))
      throw typeError(arrow.fields[i], 'a numeric slot must be integer or float');
    return i;
  });
  const categorical = schema.categorical.map((s) => {
    const i = pos.get(s)!;
    const t = arrow.fields[i].type;
    const ok =
      isTextType(t) ||
      DataType.isInt(t) ||
      (DataType.isDictionary(t) && (isTextType(t.dictionary) || DataType.isInt(t.dictionary)));
    if (!ok)
      throw typeError(
        arrow.fields[i],
        'a categorical slot must be utf8, a dictionary of utf8 or integers, or integers',
      );
    return i;
  });
  const w = weight ? (pos.get(weight) ?? -1) : -1;
  if (w >= 0 && !isNumberType(arrow.fields[w].type))
    throw typeError(arrow.fields[w], 'a sample weight (schema.weight) must be a number');
  const known = new Set([LABEL_COLUMN, TS_INPUT_FIELD, weight, ...schema.numeric, ...schema.categorical]);
  const extra = arrow.fields.map((f) => f.name).filter((n) => !known.has(n));
  if (extra.length > 0) onExtra?.(extra);
  return { label, ts, numeric, categorical, weight: w };
}

/** Decodes row `r` of the columns `cols` (indexed as the Arrow schema) with `map`; throws per-row LIONCTR_BAD_INPUT. */
export function decodeArrowRow(
  cols: Vector[],
  map: ArrowColumnMap,
  names: string[],
  r: number,
  where: string,
): DecodedRow {
  const lab = cols[map.label].get(r);
  if (lab === null || lab === undefined) throw badInput('missing_label', 'label is null', where);
  const l = Number(lab);
  if (l !== 0 && l !== 1) throw badInput('bad_label', `label must be 0 or 1, got ${String(lab)}`, where);
  let eventTimeMs: number | null = null;
  if (map.ts >= 0) {
    const t = cols[map.ts].get(r);
    if (t !== null && t !== undefined) {
      eventTimeMs = Number(t);
      if (!(eventTimeMs >= MIN_TS_MS && eventTimeMs <= MAX_TS_MS))
        throw badInput('bad_timestamp', `ts must be ms since the epoch (years 2001-2500), got ${eventTimeMs}`, where);
    }
  }
  const numeric = map.numeric.map((c) => {
    const v = cols[c].get(r);
    if (v === null || v === undefined) return null;
    const x = Number(v);
    if (!Number.isFinite(x)) throw badInput('bad_number', `${names[c]}: numeric value must be finite, got ${x}`, where);
    return x;
  });
  const categorical = map.categorical.map((c) => {
    const v = cols[c].get(r);
    if (v === null || v === undefined) return null;
    const s = String(v);
    return s.length === 0 ? null : s;
  });
  const row: DecodedRow = { label: l as 0 | 1, eventTimeMs, numeric, categorical };
  if (map.weight >= 0) {
    const v = cols[map.weight].get(r);
    const w = parseWeightValue(v === null || v === undefined ? v : Number(v), names[map.weight], where);
    if (w !== undefined) row.weight = w;
  }
  return row;
}

/**
 * The rows of the Arrow IPC file or stream `path` as pending records, one chunk per record
 * batch, `line` = the 1-based row number over the whole input. Plain files are read by
 * random access (the IPC file format reads only the batches), gzip-compressed ones as a stream.
 * Throws LIONCTR_BAD_INPUT naming the path when the input is not Arrow IPC, is truncated,
 * or its columns do not fit (arrowColumnMap).
 */
export async function* arrowRecords(
  path: string,
  schema: SlotSchema,
  onExtra?: (names: string[]) => void,
  weight = '',
): AsyncGenerator<PendingRecord[]> {
  const input = openInput(path);
  const handle = input.gzip ? null : await open(path, 'r');
  if (handle) input.stream.destroy();
  let row = 0;
  // zlib and file errors say where in the file; Arrow's own say what is wrong with the IPC data
  const fail = (e: unknown, at: string): Error =>
    e instanceof LionctrError || isZlibError(e) || (e as { syscall?: string })?.syscall
      ? input.fail(e, at)
      : badInput(
          'bad_input',
          `input file ${path} is not a valid Arrow IPC file or stream (${at}): ${(e as Error)?.message ?? e}`,
          path,
          e,
        );
  try {
    let reader: RecordBatchReader;
    try {
      reader = handle ? await RecordBatchReader.from(handle) : await RecordBatchReader.from(input.stream);
      await reader.open();
    } catch (e) {
      throw fail(e, 'at its start');
    }
    let map: ArrowColumnMap | null = null;
    const names = reader.schema.fields.map((f) => f.name);
    const batches = reader[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<{ numRows: number; getChildAt(i: number): Vector | null }>;
      try {
        next = await batches.next();
      } catch (e) {
        throw fail(e, `after row ${row}`);
      }
      if (next.done) break;
      map ??= arrowColumnMap(reader.schema, schema, path, onExtra, weight);
      const m = map;
      const batch = next.value;
      const cols = names.map((_, i) => batch.getChildAt(i) as Vector);
      const out: PendingRecord[] = new Array(batch.numRows);
      for (let r = 0; r < batch.numRows; r++) {
        const line = ++row;
        out[r] = { line, decode: () => decodeArrowRow(cols, m, names, r, `${path} row ${line}`) };
      }
      if (out.length > 0) yield out;
    }
    map ??= arrowColumnMap(reader.schema, schema, path, onExtra, weight);
  } finally {
    input.stream.destroy();
    await handle?.close();
  }
}
