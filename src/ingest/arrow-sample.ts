/**
 * @module The first rows of an Arrow IPC file or stream (gzip-compressed too, through
 * input-stream.ts as training reads it) as named columns of text cells with their Arrow kinds,
 * for `lionctr schema infer` (src/ingest/schema-infer.ts).
 */
import { DataType, RecordBatchReader, type Vector } from 'apache-arrow';
import { badInput } from './decode-util.ts';
import type { CellKind, ColumnSample } from './column-sample.ts';
import { openInput } from './input-stream.ts';

/** The kind of an Arrow type as infer sees it (utf8 and dictionaries: text; timestamps: ms). */
export function arrowKind(t: DataType): CellKind {
  if (DataType.isTimestamp(t) || DataType.isDate(t)) return 'timestamp';
  if (DataType.isInt(t)) return 'number';
  if (DataType.isFloat(t)) return 'float';
  if (DataType.isBool(t)) return 'bool';
  if (DataType.isUtf8(t) || DataType.isLargeUtf8(t) || DataType.isDictionary(t)) return 'text';
  return 'other';
}

/** One Arrow value as text (numbers and bigints in decimal, bools as 0/1, timestamps as ms). */
function cellText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (v instanceof Date) return String(v.getTime());
  return String(v);
}

/**
 * The first `rows` rows of the Arrow IPC input at `path` (file or stream format, plain or gzip).
 * @throws LionctrError LIONCTR_BAD_INPUT when the input is not Arrow IPC or has no rows.
 */
export async function sampleArrow(path: string, rows: number): Promise<ColumnSample> {
  const input = openInput(path);
  try {
    let reader: RecordBatchReader;
    try {
      reader = await RecordBatchReader.from(input.stream);
      await reader.open();
    } catch (e) {
      throw badInput('bad_input', `${path} is not Arrow IPC (file or stream): ${(e as Error).message}`, path, e);
    }
    const fields = reader.schema.fields;
    const names = fields.map((f) => f.name);
    const kinds = fields.map((f) => arrowKind(f.type));
    const cells: (string | null)[][] = names.map(() => []);
    let n = 0;
    for await (const batch of reader) {
      const take = Math.min(batch.numRows, rows - n);
      for (let c = 0; c < names.length; c++) {
        const col = batch.getChildAt(c) as Vector | null;
        for (let r = 0; r < take; r++) cells[c].push(col ? cellText(col.get(r)) : null);
      }
      n += take;
      if (n >= rows) break;
    }
    if (n === 0) throw badInput('bad_input', 'the Arrow input has no rows', path);
    return { names, cells, rows: n, kinds };
  } finally {
    input.stream.destroy();
  }
}
