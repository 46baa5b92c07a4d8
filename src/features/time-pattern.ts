/**
 * @module The time formats of `schema.time.format`: `ms`, `s`, or a UTC pattern of YYYY|YY, MM, DD,
 * HH, mm, ss (Avazu's `hour` column is `YYMMDDHH`): checked here, parsed by src/ingest/time-format.ts.
 */

/** The fields of a time pattern, longest first (`YYYY` before `YY`); anything else is a literal. */
const TOKENS = ['YYYY', 'YY', 'MM', 'DD', 'HH', 'mm', 'ss'] as const;
/** One field of a time pattern. */
export type TimeToken = (typeof TOKENS)[number];

/**
 * Why `format` is not a time format (`ms`, `s`, or a pattern of YYYY|YY, MM, DD and optionally HH,
 * mm, ss, other characters literal), or undefined when it is one.
 */
export function timeFormatProblem(format: string): string | undefined {
  if (format === 'ms' || format === 's') return undefined;
  const { fields } = compileTimePattern(format);
  if (!(fields.includes('YYYY') || fields.includes('YY')) || !fields.includes('MM') || !fields.includes('DD'))
    return `must be "ms", "s" or a pattern with a year (YYYY or YY), MM and DD (e.g. "YYMMDDHH"), got "${format}"`;
  if (new Set(fields).size !== fields.length) return `names a field twice: "${format}"`;
  return undefined;
}

/** A pattern as a regex of its digit fields (YYYY: 4 digits, the others 2) and their names in order. */
export function compileTimePattern(format: string): { re: RegExp; fields: TimeToken[] } {
  const fields: TimeToken[] = [];
  let re = '^';
  for (let i = 0; i < format.length; ) {
    const t = TOKENS.find((k) => format.startsWith(k, i));
    if (t) {
      fields.push(t);
      re += t === 'YYYY' ? '(\\d{4})' : '(\\d{2})';
      i += t.length;
    } else {
      re += format[i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i++;
    }
  }
  return { re: new RegExp(`${re}$`), fields };
}
