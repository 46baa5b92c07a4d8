/**
 * @module Event times of input rows: the time column's format (`schema.time.format`: `ms`, `s`, or
 * a pattern such as Avazu's `YYMMDDHH`; src/features/time-pattern.ts) turned into ms since the
 * epoch, range-checked the same way for every file format (CSV, JSON lines), so that seconds are
 * never taken for milliseconds.
 */
import { compileTimePattern } from '../features/time-pattern.ts';
import { badInput, parseNumericCell } from './decode-util.ts';

/** Accepted event times, ms since the epoch: 2001-09-09 to 2500-01-01 (seconds or µs fall outside). */
export const MIN_TS_MS = 1e12,
  MAX_TS_MS = 16725225600000;

/** Reads one time cell (text, or a JSON number) as ms since the epoch; null when empty. */
export type TimeParser = (value: string | number, where: string) => number | null;

/**
 * A parser of the time column `column` in `format` (valid per timeFormatProblem of
 * src/features/time-pattern.ts): `ms` and `s` take a decimal number (seconds x 1000), a pattern
 * takes its digits as a UTC time (YY: 2000 + YY). The result must lie in [MIN_TS_MS, MAX_TS_MS].
 * @throws LionctrError LIONCTR_BAD_INPUT `bad_number` (not a number), `bad_timestamp` (not the
 *   pattern, a field out of range, or out of the years 2001-2500: "seconds?" / "microseconds?").
 */
export function timeParser(column: string, format: string): TimeParser {
  const scale = format === 's' ? 1000 : 1;
  const pattern = format === 'ms' || format === 's' ? null : compileTimePattern(format);
  const inRange = (ms: number, shown: string | number, where: string): number => {
    if (ms >= MIN_TS_MS && ms <= MAX_TS_MS) return ms;
    const hint =
      pattern !== null
        ? ''
        : ms > MAX_TS_MS
          ? ` (${format === 's' ? 'milliseconds' : 'microseconds or nanoseconds'}?)`
          : format === 'ms'
            ? ' (seconds? set schema.time.format to "s")'
            : '';
    const unit = pattern ? `"${format}"` : format === 's' ? 'seconds' : 'milliseconds';
    throw badInput(
      'bad_timestamp',
      `${column}: must be ${unit} since the epoch (years 2001-2500), got ${JSON.stringify(shown)}${hint}`,
      where,
    );
  };
  if (pattern === null) {
    return (value, where) => {
      if (typeof value === 'number') {
        if (!Number.isFinite(value)) throw badInput('bad_number', `${column}: must be finite`, where);
        return inRange(value * scale, value, where);
      }
      const v = parseNumericCell(value, column, where);
      return v === null ? null : inRange(v * scale, value, where);
    };
  }
  return (value, where) => {
    const text = typeof value === 'number' ? String(value) : value.trim();
    if (text === '') return null;
    const m = pattern.re.exec(text);
    const f: Record<string, number> = { YYYY: 1970, MM: 1, DD: 1, HH: 0, mm: 0, ss: 0 };
    if (m)
      for (const [i, k] of pattern.fields.entries()) f[k === 'YY' ? 'YYYY' : k] = +m[i + 1] + (k === 'YY' ? 2000 : 0);
    const ms = Date.UTC(f.YYYY, f.MM - 1, f.DD, f.HH, f.mm, f.ss);
    const d = new Date(ms);
    const valid =
      m !== null &&
      d.getUTCMonth() === f.MM - 1 &&
      d.getUTCDate() === f.DD &&
      d.getUTCHours() === f.HH &&
      d.getUTCMinutes() === f.mm &&
      d.getUTCSeconds() === f.ss;
    if (!valid)
      throw badInput(
        'bad_timestamp',
        `${column}: ${JSON.stringify(text.slice(0, 40))} is not a "${format}" time`,
        where,
      );
    return inRange(ms, text, where);
  };
}
