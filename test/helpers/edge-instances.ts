/**
 * Serving instances as raw JSON lines (the text matters: `1.0` and `"\ud800"` only exist as
 * text) that exercise every rule of an export's stated featurization: seen and unseen values,
 * absent, null and "" slots, numbers as categorical values (1.0, -0, 1e21, 2^64), numeric
 * strings (" 12 ", "-.5e-1", "1e3", ".5"), the bucket threshold (2, 2.0000001), e^2 (ln^2 = 4 up
 * to rounding), tiny and huge numbers, non-ASCII and lone-surrogate strings.
 * `numericStrings: false` gives the lines a predict request may hold (serving checks values as TF
 * Serving's DT_FLOAT and DT_STRING inputs): each numeric string as its number, "" as null, each
 * number in a categorical slot as the string of its token (String(x): the same token), a numeric
 * value beyond a float's range (1e300) as 3.4e38.
 */
import type { FeatureSchema } from '../../src/features/schema.ts';

/** The lines, for a schema with at least one categorical and one numeric slot. */
export function edgeInstanceLines(schema: FeatureSchema, numericStrings = true): string[] {
  const text = (s: string, json: string) => (numericStrings ? s : json);
  // a number in a categorical slot: as written for training, as its token's string in a predict body
  const cnum = (json: string) => (numericStrings ? json : JSON.stringify(String(JSON.parse(json))));
  const c = (i: number) => JSON.stringify(schema.categorical[i % schema.categorical.length]);
  const n = (i: number) => JSON.stringify(schema.numeric[i % schema.numeric.length]);
  const all = (cat: (j: number) => string, num: (j: number) => string) => {
    const cats = schema.categorical.map((s, j) => `${JSON.stringify(s)}: ${cat(j)}`);
    const nums = schema.numeric.map((s, j) => `${JSON.stringify(s)}: ${num(j)}`);
    return `{${[...cats, ...nums].join(', ')}}`;
  };
  return [
    all(
      (j) => `"${1 + (j % 5)}"`,
      (j) => String(j % 9),
    ),
    all(
      (j) => `"${2 + (j % 3)}"`,
      (j) => String(1 + (j % 4)),
    ),
    '{}',
    all(
      (j) => (j % 2 ? 'null' : '""'),
      (j) => (j % 2 ? text('""', 'null') : 'null'),
    ),
    `{${c(0)}: "never-seen-ü-日本-😀", ${c(1)}: "a\\"b\\\\c", ${n(0)}: ${text('1e300', '3.4e38')}, ${n(1)}: 1e-300}`,
    `{${c(0)}: ${cnum('1.0')}, ${c(1)}: ${cnum('1.5')}, ${c(2)}: ${cnum('-0')}, ${n(0)}: -0.0, ${n(1)}: 2}`,
    `{${c(0)}: ${cnum('1e21')}, ${c(1)}: ${cnum('1E-7')}, ${c(2)}: ${cnum('12345678901234567890')}, ` +
      `${n(0)}: 2.0000001, ${n(1)}: 1e-7, ${n(2)}: -5}`,
    `{${c(0)}: "\\u0000", ${c(1)}: "\\ud800", ${c(2)}: "3", ${n(0)}: ${text('" 12 "', '12')}, ` +
      `${n(1)}: ${text('"-.5e-1"', '-5e-2')}, ${n(2)}: ${text('"1e3"', '1e3')}}`,
    `{${c(0)}: "2", ${n(0)}: ${text('"-3.5"', '-3.5')}, ${n(1)}: ${text('"+4"', '4')}, ` +
      `${n(2)}: ${text('".5"', '0.5')}, ${n(3)}: ${text('"5."', '5.0')}}`,
    `{${c(0)}: "1", ${c(1)}: ${cnum('2')}, ${n(0)}: 0.1, ${n(1)}: 3, ${n(2)}: 1e21, ${n(3)}: 7.38905609893065}`,
    `{${n(0)}: 0.000001234, ${n(1)}: 123e-20, ${n(2)}: ${text('1.7976931348623157e308', '-3.4e38')}, ${n(3)}: 100}`,
  ];
}
