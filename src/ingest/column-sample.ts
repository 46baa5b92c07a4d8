/**
 * @module The first rows of an input file as named columns of raw text cells, for `lionctr schema
 * infer` (src/ingest/schema-infer.ts): a CSV/TSV file (delimiter sniffed, header line detected) or
 * JSON lines (`label`, the time key and each `features` key as a column); gzip-compressed files
 * too, read through input-stream.ts as training reads them.
 */
import { parse as csvParse } from 'csv-parse';
import { LionctrError } from '../errors.ts';
import { parseNumericCell } from './decode-util.ts';
import { openInput } from './input-stream.ts';

/** The type a typed input (Arrow) gives a column (number: an integer type); text formats have none. */
export type CellKind = 'number' | 'float' | 'text' | 'timestamp' | 'bool' | 'other';

/** Sampled columns: names in file order, one array of cells per column (null: absent in that row). */
export interface ColumnSample {
  names: string[];
  cells: (string | null)[][];
  rows: number;
  /** CSV only: the delimiter and whether the first line is a header. */
  csv?: { delimiter: string; header: boolean };
  /** True when the names are made up (`c1..cN`: a header-less file without --columns). */
  unnamed?: boolean;
  /** Typed inputs only (Arrow): each column's kind. */
  kinds?: CellKind[];
}

/** The delimiter of a CSV/TSV line: the most frequent of tab, comma, semicolon, pipe (comma on a tie). */
export function sniffDelimiter(firstLine: string): string {
  const count = (c: string) => firstLine.split(c).length - 1;
  return ['\t', ';', '|'].reduce((best, c) => (count(c) > count(best) ? c : best), ',');
}

/**
 * True when a first row looks like a header: every cell non-empty, unique, not a number, and no
 * cell occurring again in its column in `later` rows (a header-less file of strings repeats its values).
 */
export function looksLikeHeader(first: string[], later: string[][]): boolean {
  const isNum = (s: string) => {
    try {
      return parseNumericCell(s, '', '') !== null;
    } catch {
      return false;
    }
  };
  if (first.some((c) => c.trim() === '' || isNum(c)) || new Set(first).size !== first.length) return false;
  return !first.some((c, i) => later.some((r) => r[i] === c));
}

/** Reads the first line of `path` (decompressed; up to about 1 MiB). */
async function firstLine(path: string): Promise<string> {
  const s = openInput(path).stream;
  s.setEncoding('utf8');
  let text = '';
  for await (const chunk of s as AsyncIterable<string>) {
    text += chunk;
    if (text.includes('\n') || text.length > 1 << 20) break;
  }
  s.destroy();
  return text.replace(/^\uFEFF/, '').split(/\r?\n/)[0];
}

/**
 * The first `rows` data rows of a CSV/TSV file. `columns`: the names of a header-less file (then
 * no header is looked for); otherwise the header is detected (looksLikeHeader) and a header-less
 * file's columns are named `c1..cN`. `delimiter`: sniffed when absent.
 * @throws LionctrError LIONCTR_BAD_INPUT when the file is empty or unreadable.
 */
export async function sampleCsv(
  path: string,
  rows: number,
  opts: { delimiter?: string; columns?: string[] } = {},
): Promise<ColumnSample> {
  const delimiter = opts.delimiter ?? sniffDelimiter(await firstLine(path));
  const input = openInput(path).stream;
  const parser = input.pipe(
    csvParse({ delimiter, bom: true, relax_column_count: true, skip_empty_lines: true, to: rows + 1 }),
  );
  const records: string[][] = [];
  for await (const r of parser as AsyncIterable<string[]>) records.push(r);
  input.destroy();
  if (records.length === 0) throw new LionctrError('LIONCTR_BAD_INPUT', 'the file has no rows', { where: path });
  const header = opts.columns ? false : looksLikeHeader(records[0], records.slice(1, 200));
  const names = opts.columns ?? (header ? records[0].map((c) => c.trim()) : records[0].map((_, i) => `c${i + 1}`));
  const data = header ? records.slice(1) : records.slice(0, rows);
  const cells = names.map((_, i) => data.map((r) => (i < r.length ? r[i] : null)));
  const unnamed = !opts.columns && !header;
  return { names, cells, rows: data.length, csv: { delimiter, header }, unnamed };
}

/**
 * The first `rows` lines of a JSON-lines file as columns: `label`, `timeKey` and each key of
 * `features` (numbers as their decimal text). Lines that are not JSON objects are passed over.
 */
export async function sampleJsonl(path: string, rows: number, timeKey: string): Promise<ColumnSample> {
  const objs: Record<string, unknown>[] = [];
  let rest = '';
  const s = openInput(path).stream;
  s.setEncoding('utf8');
  for await (const chunk of s as AsyncIterable<string>) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) if (objs.length < rows) pushJson(objs, l);
    if (objs.length >= rows) break;
  }
  s.destroy();
  if (objs.length < rows) pushJson(objs, rest);
  const flat = flatKeys(objs, timeKey);
  if (flat.length > 0 && !objs.some((o) => Object.keys(feats(o)).length > 0))
    throw new LionctrError(
      'LIONCTR_BAD_INPUT',
      `${path}: JSON lines carry their slots under "features" ({"label":0|1,"${timeKey}":<ms>,` +
        `"features":{slot: value}}); the sampled lines have no "features" object but top-level keys ` +
        `${flat.slice(0, 8).join(', ')}${flat.length > 8 ? ', ...' : ''}`,
    );
  // the time key is a column only when some sampled line has it (a warning about an absent key misleads)
  const names = objs.some((o) => o[timeKey] !== undefined) ? ['label', timeKey] : ['label'];
  const seen = new Set(['label', timeKey]);
  for (const o of objs)
    for (const k of Object.keys(feats(o)))
      if (!seen.has(k)) {
        seen.add(k);
        names.push(k);
      }
  const text = (v: unknown) => (v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v));
  const top = names.indexOf(timeKey) === 1 ? 2 : 1;
  const cells = names.map((n, i) => objs.map((o) => text(i < top ? o[n] : feats(o)[n])));
  return { names, cells, rows: objs.length };
}

/** Top-level keys of the sampled objects other than label, the time key and features, in first-seen order. */
function flatKeys(objs: Record<string, unknown>[], timeKey: string): string[] {
  const keys = new Set<string>();
  for (const o of objs)
    for (const k of Object.keys(o)) if (k !== 'label' && k !== timeKey && k !== 'features') keys.add(k);
  return [...keys];
}

const feats = (o: Record<string, unknown>): Record<string, unknown> =>
  o.features !== null && typeof o.features === 'object' ? (o.features as Record<string, unknown>) : {};

function pushJson(out: Record<string, unknown>[], line: string): void {
  const t = line.trim();
  if (!t) return;
  try {
    const v: unknown = JSON.parse(t);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) out.push(v as Record<string, unknown>);
  } catch {
    /* not a JSON object: not sampled */
  }
}
