/**
 * @module The rules of `lionctr schema infer`: from sampled columns (column-sample.ts) to a config
 * (`schema.label`, `schema.time`, `schema.numeric`, `schema.categorical`, `schema.ignore`,
 * `source.csv`), each decision with its reason. Rules, in order, per column:
 * 1. label: `--label`, else a column named label/click/clicked/is_click/y/target whose values are
 *    all 0 or 1, else (say so) the first column whose values are all 0 or 1 with both present.
 * 2. time: a column named ts/time/timestamp/event_time/hour/date/datetime (in a file without
 *    names: the first column) whose values all read in one format: YYMMDDHH (Avazu's hour),
 *    YYYYMMDDHH, YYYYMMDD, s, ms, ISO-like patterns (the range check of time-format.ts applies).
 * 3. ignored: no value in the sample; one value only (it carries nothing); or id-like: >= 95% of
 *    >= 50 values distinct and not fractional numbers (a unique id per row is never seen again, so
 *    its embedding rows cannot generalise; they only fill the tables); a reserved name.
 * 4. numeric: every value a plain decimal number (the training parser's rule; `007` is a code,
 *    not a number), >= 20 distinct values, and either a fraction somewhere or count-shaped (the
 *    two most frequent values among the smallest 10% of the distinct values, as Criteo's counts:
 *    0 and 1). Integer codes (Avazu's C14..C21: frequent values anywhere; C20's -1 sentinel beside
 *    codes of 100000+) and small sets such as hour-of-day or banner position stay categorical:
 *    an embedding per value learns any shape.
 * 5. categorical: everything else.
 * Typed input (Arrow; `sample.kinds`): a text column (utf8, dictionary) is never numeric, a float
 * column never categorical (the Arrow reader takes integers and text as ids); a timestamp column is
 * only ever the time (ms); bool and other types are ignored (no slot reads them).
 */
import { RESERVED_SLOT_NAMES } from '../features/columns.ts';
import { LionctrError } from '../errors.ts';
import type { CellKind, ColumnSample } from './column-sample.ts';
import { parseNumericCell } from './decode-util.ts';
import { timeParser } from './time-format.ts';

/** What infer decided: the config to print and one note per decision (for stderr). */
export interface Inference {
  label: string;
  time: { column: string; format: string } | null;
  numeric: string[];
  categorical: string[];
  ignore: string[];
  notes: string[];
}

const LABEL_NAMES = ['label', 'click', 'clicked', 'is_click', 'y', 'target'];
const TIME_NAMES = ['ts', 'time', 'timestamp', 'event_time', 'hour', 'date', 'datetime'];
const TIME_FORMATS = ['YYMMDDHH', 'YYYYMMDDHH', 'YYYYMMDD', 's', 'ms', 'YYYY-MM-DD HH:mm:ss', 'YYYY-MM-DDTHH:mm:ss'];
/** Distinct values a numeric column needs in the sample. */
export const MIN_NUMERIC_DISTINCT = 20;
/** Share of distinct values (of >= ID_MIN_VALUES) that makes a column id-like. */
export const ID_DISTINCT_SHARE = 0.95;
const ID_MIN_VALUES = 50;

const present = (cells: (string | null)[]): string[] => cells.filter((c): c is string => c !== null && c !== '');
const isBinary = (v: string[]) => v.length > 0 && v.every((c) => c.trim() === '0' || c.trim() === '1');

/** The number a cell is by the training parser, or undefined (codes with a leading zero: undefined). */
function num(c: string): number | undefined {
  if (/^\s*[-+]?0\d/.test(c)) return undefined;
  try {
    return parseNumericCell(c, '', '') ?? undefined;
  } catch {
    return undefined;
  }
}

/** The first time format that reads every value, or null. */
function timeFormatOf(name: string, values: string[]): string | null {
  return (
    TIME_FORMATS.find((f) => {
      const p = timeParser(name, f);
      try {
        return values.every((v) => p(v, '') !== null);
      } catch {
        return false;
      }
    }) ?? null
  );
}

/**
 * Infers the column roles of `sample` (see the module doc). `label`: the label column, if given.
 * @throws LionctrError LIONCTR_BAD_INPUT when no label column is found or `label` is not a column.
 */
export function inferSchema(sample: ColumnSample, label?: string): Inference {
  const notes: string[] = [];
  const values = new Map(sample.names.map((n, i) => [n, present(sample.cells[i])]));
  let lab = label;
  if (lab !== undefined && !values.has(lab))
    throw new LionctrError('LIONCTR_BAD_INPUT', `--label ${lab}: no such column (${sample.names.join(', ')})`);
  lab ??= sample.names.find((n) => LABEL_NAMES.includes(n.toLowerCase()) && isBinary(values.get(n)!));
  if (lab === undefined) {
    lab = sample.names.find((n) => {
      const v = values.get(n)!;
      return isBinary(v) && v.some((c) => c.trim() === '1') && v.some((c) => c.trim() === '0');
    });
    if (lab !== undefined)
      notes.push(`label: "${lab}", the first column of 0s and 1s (no label name; --label to choose)`);
  } else notes.push(`label: "${lab}"`);
  if (lab === undefined)
    throw new LionctrError('LIONCTR_BAD_INPUT', 'no label column (0/1 values) found: give --label NAME');

  let time: Inference['time'] = null;
  for (const n of sample.names) {
    const named = TIME_NAMES.includes(n.toLowerCase());
    if (time || n === lab || !(named || sample.unnamed)) continue;
    const v = values.get(n)!;
    const kind = sample.kinds?.[sample.names.indexOf(n)];
    const format = kind === 'timestamp' ? 'ms' : v.length > 0 ? timeFormatOf(n, v) : null;
    if (format) {
      time = { column: n, format };
      notes.push(`time: "${n}" in ${format} (e.g. ${v[0]}); event time only, not a feature`);
    } else if (named) notes.push(`"${n}" has a time name but its values read in none of ${TIME_FORMATS.join(', ')}`);
  }

  const out: Inference = { label: lab, time, numeric: [], categorical: [], ignore: [], notes };
  for (const n of sample.names) {
    if (n === lab || n === time?.column) continue;
    const [role, why] = roleOf(n, values.get(n)!, sample.rows, sample.kinds?.[sample.names.indexOf(n)]);
    out[role].push(n);
    notes.push(`${n}: ${role} (${why})`);
  }
  return out;
}

type Role = ['ignore' | 'numeric' | 'categorical', string];

/** The role of one column and why (rules 3-5 of the module doc; `kind`: its type in a typed input). */
function roleOf(name: string, v: string[], rows: number, kind?: CellKind): Role {
  if (kind === 'bool' || kind === 'other' || kind === 'timestamp')
    return ['ignore', `Arrow ${kind} column: no slot reads this type`];
  const [role, why] = untypedRoleOf(name, v, rows);
  if (kind === 'text' && role === 'numeric') return ['categorical', `Arrow text column (${why})`];
  if (kind === 'float' && role === 'categorical')
    return ['numeric', `Arrow float column: categorical slots take integers or text only (${why})`];
  return [role, why];
}

/** The role of one column of text cells and why (rules 3-5 of the module doc). */
function untypedRoleOf(name: string, v: string[], rows: number): Role {
  if (RESERVED_SLOT_NAMES.includes(name)) return ['ignore', 'a reserved name, cannot be a slot'];
  if (v.length === 0) return ['ignore', `no value in ${rows} rows`];
  const counts = new Map<string, number>();
  for (const c of v) counts.set(c, (counts.get(c) ?? 0) + 1);
  const distinct = counts.size;
  if (distinct === 1) return ['ignore', `one value only: ${JSON.stringify(v[0]).slice(0, 30)}`];
  const nums = v.map(num);
  const allNum = nums.every((x) => x !== undefined);
  const fractional = allNum && nums.some((x) => !Number.isInteger(x));
  const share = `${distinct} distinct of ${v.length}`;
  if (!fractional && v.length >= ID_MIN_VALUES && distinct >= ID_DISTINCT_SHARE * v.length)
    return ['ignore', `id-like: ${share}; a value seen once cannot generalise`];
  if (!allNum) return ['categorical', `text values, ${share}`];
  if (distinct < MIN_NUMERIC_DISTINCT) return ['categorical', `numbers but few values: ${share}`];
  if (fractional) return ['numeric', `fractional numbers, ${share}`];
  const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 2);
  const sorted = [...new Set(nums as number[])].sort((a, b) => a - b);
  const low = top.every(([c]) => sorted.indexOf(num(c)!) < 0.1 * sorted.length);
  const shown = top.map(([c]) => c).join(', ');
  return low
    ? ['numeric', `count-like integers (most frequent ${shown}: among the smallest), ${share}`]
    : ['categorical', `integer codes (most frequent ${shown}: not both among the smallest), ${share}`];
}
