/**
 * @module The config of a libFFM or libSVM/libFM file, inferred from its first lines for
 * `lionctr schema infer` (read through input-stream.ts, so gzip too). Slot k is field k: the
 * decoder (sparse-decoder.ts) maps field k to slot k of `schema.numeric` followed by
 * `schema.categorical`, so numeric fields must come first; slots are named f0..fK-1. Rules:
 * - a field is numeric when it holds one feature index only and its values are not all 0 or 1
 *   (a count or a measure); otherwise categorical (the index is the id; val 1 = present).
 * - libFFM: fields 0..K-1, K = 1 + the largest field seen; a field absent from the sample is
 *   categorical (it carries nothing there).
 * - libSVM: with `fieldStarts` given, fields are those ranges. Else each non-0/1 index is a field
 *   of its own, and 0/1 indices are grouped in ascending order into one-hot ranges: an index
 *   starts a new field when a line holds it together with an index of the current field (a
 *   one-hot field has one index per line). The identity (index i = field i) is when every field
 *   is one index 0..K-1; fieldStarts are not written then.
 * - numeric fields after a categorical one: refused (LIONCTR_BAD_INPUT), naming them.
 */
import { LionctrError } from '../errors.ts';
import { openInput } from './input-stream.ts';
import { parseSparseLabel } from './sparse-decoder.ts';

/** Fields a libSVM file may be inferred to have before infer asks for --field-starts. */
export const MAX_INFERRED_FIELDS = 1000;

/** A config part of a sparse file and one note per decision. */
export interface SparseInference {
  numeric: string[];
  categorical: string[];
  /** libsvm only; absent: the identity. */
  fieldStarts?: number[];
  notes: string[];
  rows: number;
}

/** Features of one line: [field (libFFM; -1 for libSVM), index, value]. */
type Feature = [number, number, number];

/** The features of the first `rows` labelled lines of `path`; lines without a valid label are passed over. */
async function sampleLines(path: string, rows: number, ffm: boolean): Promise<{ lines: Feature[][]; bad: number }> {
  const lines: Feature[][] = [];
  let bad = 0;
  let rest = '';
  const s = openInput(path).stream;
  s.setEncoding('utf8');
  const take = (l: string) => {
    const toks = l.trim().split(/[ \t]+/);
    if (toks[0] === '' || lines.length >= rows) return;
    try {
      parseSparseLabel(toks[0], '');
    } catch {
      bad++;
      return;
    }
    const f: Feature[] = [];
    for (let t = 1; t < toks.length && toks[t][0] !== '#'; t++) {
      const p = toks[t].split(':').map(Number);
      if (p.length === (ffm ? 3 : 2) && p.every((x) => Number.isFinite(x)))
        f.push(ffm ? [p[0], p[1], p[2]] : [-1, p[0], p[1]]);
    }
    lines.push(f);
  };
  for await (const chunk of s as AsyncIterable<string>) {
    const ls = (rest + chunk).split('\n');
    rest = ls.pop() ?? '';
    for (const l of ls) take(l);
    if (lines.length >= rows) break;
  }
  s.destroy();
  take(rest);
  if (lines.length === 0) throw new LionctrError('LIONCTR_BAD_INPUT', 'no labelled lines in the file', { where: path });
  return { lines, bad };
}

/** Per field (or index): the distinct indices and whether every value is 0 or 1. */
interface Stats {
  idx: Set<number>;
  values: Set<number>;
  binary: boolean;
}

const newStats = (): Stats => ({ idx: new Set(), values: new Set(), binary: true });
function add(st: Stats, idx: number, val: number): void {
  st.idx.add(idx);
  if (st.values.size < 3) st.values.add(val);
  if (val !== 0 && val !== 1) st.binary = false;
}
const isNumeric = (st: Stats) => st.idx.size === 1 && !st.binary && st.values.size > 1;

/** Numeric and categorical slot names of fields `stats` (field k = slot k), refusing interleaved ones. */
function slotsOf(stats: Stats[], notes: string[], describe: (k: number) => string): [string[], string[]] {
  const num = stats.map(isNumeric);
  const firstCat = num.indexOf(false);
  const late = firstCat < 0 ? [] : num.flatMap((n, k) => (n && k > firstCat ? [k] : []));
  if (late.length > 0)
    throw new LionctrError(
      'LIONCTR_BAD_INPUT',
      `numeric field(s) ${late.slice(0, 10).join(', ')} come after categorical field ${firstCat}: ` +
        'field k is slot k of schema.numeric followed by schema.categorical, so numeric fields must come first; ' +
        'renumber the fields (numeric first), or write the file as CSV and infer that',
    );
  stats.forEach((st, k) => {
    notes.push(
      `f${k} (${describe(k)}): ${num[k] ? 'numeric' : 'categorical'} ` +
        `(${st.idx.size} distinct ${st.idx.size === 1 ? 'index' : 'indices'}, ` +
        `${st.binary ? 'values 0/1' : 'values vary'})`,
    );
  });
  const names = stats.map((_, k) => `f${k}`);
  const n = firstCat < 0 ? stats.length : firstCat;
  return [names.slice(0, n), names.slice(n)];
}

/**
 * Infers the slots of the libFFM file `path` from its first `rows` lines (see the module doc).
 * @throws LionctrError LIONCTR_BAD_INPUT when no line is labelled or numeric fields follow categorical ones.
 */
export async function inferLibffm(path: string, rows: number): Promise<SparseInference> {
  const { lines, bad } = await sampleLines(path, rows, true);
  const stats: Stats[] = [];
  for (const l of lines)
    for (const [f, i, v] of l) {
      while (stats.length <= f) stats.push(newStats());
      add(stats[f], i, v);
    }
  const notes = bad > 0 ? [`${bad} lines without a valid label passed over`] : [];
  const [numeric, categorical] = slotsOf(stats, notes, (k) => `field ${k}`);
  return { numeric, categorical, notes, rows: lines.length };
}

/**
 * Infers the slots and field starts of the libSVM/libFM file `path` from its first `rows` lines;
 * `given`: the field starts (then only each field's role is inferred).
 * @throws LionctrError LIONCTR_BAD_INPUT when no line is labelled, more than MAX_INFERRED_FIELDS
 *   fields are found (give --field-starts), or numeric fields follow categorical ones.
 */
export async function inferLibsvm(path: string, rows: number, given?: number[]): Promise<SparseInference> {
  const { lines, bad } = await sampleLines(path, rows, false);
  const byIndex = new Map<number, Stats>();
  const linesOf = new Map<number, number[]>();
  lines.forEach((l, n) => {
    for (const [, i, v] of l) {
      if (!byIndex.has(i)) {
        byIndex.set(i, newStats());
        linesOf.set(i, []);
      }
      add(byIndex.get(i)!, i, v);
      linesOf.get(i)!.push(n);
    }
  });
  const indices = [...byIndex.keys()].sort((a, b) => a - b);
  const starts = given ?? groupOneHot(indices, byIndex, linesOf, lines.length);
  if (starts.length > MAX_INFERRED_FIELDS)
    throw new LionctrError(
      'LIONCTR_BAD_INPUT',
      `${starts.length} fields inferred (more than ${MAX_INFERRED_FIELDS}): the index ranges are not one-hot ` +
        'in the sample; give --field-starts a,b,... (the first index of each field)',
    );
  const stats = starts.map(newStats);
  let k = 0;
  for (const i of indices) {
    while (k + 1 < starts.length && starts[k + 1] <= i) k++;
    if (i < starts[0]) continue;
    const st = byIndex.get(i)!;
    for (const v of st.values) add(stats[k], i, v);
    if (!st.binary) stats[k].binary = false;
  }
  const notes = bad > 0 ? [`${bad} lines without a valid label passed over`] : [];
  if (given === undefined)
    notes.push(`${indices.length} indices ${indices[0]}..${indices.at(-1)} grouped into ${starts.length} fields`);
  const end = (j: number) => (j + 1 < starts.length ? `${starts[j + 1] - 1}` : '');
  const [numeric, categorical] = slotsOf(stats, notes, (j) => `indices ${starts[j]}..${end(j)}`);
  const identity = starts.every((s, j) => s === j);
  return { numeric, categorical, ...(identity ? {} : { fieldStarts: starts }), notes, rows: lines.length };
}

/** Field starts of ascending `indices` (the libSVM grouping rule of the module doc). */
function groupOneHot(
  indices: number[],
  byIndex: Map<number, Stats>,
  linesOf: Map<number, number[]>,
  nLines: number,
): number[] {
  const starts: number[] = [];
  const mark = new Int32Array(nLines).fill(-1);
  let open = false;
  for (const i of indices) {
    const own = linesOf.get(i)!;
    const numeric = isNumeric(byIndex.get(i)!);
    if (numeric || !open || own.some((n) => mark[n] === starts.length - 1)) starts.push(i);
    open = !numeric;
    for (const n of own) mark[n] = starts.length - 1;
  }
  return starts;
}
