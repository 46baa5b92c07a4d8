/**
 * Arrow column building: our hand-written Utf8ColumnBuilder / Float64ColumnBuilder
 * (src/ingest/arrow/column-builders.ts) against apache-arrow's makeBuilder and
 * vectorFromArray, on the same rows in the same process: Criteo-like categorical values
 * (8 hex digits, 10% null) and numeric counts (10% null), cut into columns of --batch rows
 * as the record-batch builder does. Each method builds every column once per round; the
 * median round is reported as rows/s, with the ratio ours / theirs. The outputs are checked
 * equal before timing.
 *
 *   npx tsx bench/arrow-builders.ts [--rows 400000] [--batch 4096] [--rounds 7]
 */
import { parseArgs } from 'node:util';
import { Float64, makeBuilder, makeVector, Utf8, vectorFromArray, type Data, type Vector } from 'apache-arrow';
import { Float64ColumnBuilder, Utf8ColumnBuilder } from '../src/ingest/arrow/column-builders.ts';

const usage = 'usage: npx tsx bench/arrow-builders.ts [--rows 400000] [--batch 4096] [--rounds 7]';
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '400000' },
    batch: { type: 'string', default: '4096' },
    rounds: { type: 'string', default: '7' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const rows = Number(values.rows),
  batch = Number(values.batch),
  rounds = Number(values.rounds);

// Same rows for every method: a deterministic LCG so runs compare.
let state = 12345;
const rand = (): number => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state / 4294967296;
};
const strings: (string | null)[] = Array.from({ length: rows }, () =>
  rand() < 0.1
    ? null
    : Math.floor(rand() * 0xffffffff)
        .toString(16)
        .padStart(8, '0'),
);
const numbers: (number | null)[] = Array.from({ length: rows }, () =>
  rand() < 0.1 ? null : Math.floor(Math.exp(1.5 + 1.2 * 3 * (rand() - 0.5))),
);

/** One column builder under test: builds rows [from, from+n) of its column. */
type Build = (from: number, n: number) => Data | Vector;

const ours = {
  utf8: ((from, n) => {
    const b = new Utf8ColumnBuilder(n);
    for (let i = from, e = from + n; i < e; i++) b.push(strings[i]);
    return b.finish();
  }) as Build,
  float64: ((from, n) => {
    const b = new Float64ColumnBuilder(n);
    for (let i = from, e = from + n; i < e; i++) b.push(numbers[i]);
    return b.finish();
  }) as Build,
};
const arrowBuilder = {
  utf8: ((from, n) => {
    const b = makeBuilder({ type: new Utf8(), nullValues: [null, undefined] });
    for (let i = from, e = from + n; i < e; i++) b.append(strings[i]);
    return b.finish().toVector();
  }) as Build,
  float64: ((from, n) => {
    const b = makeBuilder({ type: new Float64(), nullValues: [null, undefined] });
    for (let i = from, e = from + n; i < e; i++) b.append(numbers[i]);
    return b.finish().toVector();
  }) as Build,
};
const fromArray = {
  utf8: ((from, n) => vectorFromArray(strings.slice(from, from + n), new Utf8())) as Build,
  float64: ((from, n) => vectorFromArray(numbers.slice(from, from + n), new Float64())) as Build,
};

/** Values of a built column as a JS array (Data is wrapped in a Vector). */
function valuesOf(col: Data | Vector): unknown[] {
  const v: Vector = 'get' in col ? col : makeVector(col);
  return Array.from({ length: v.length }, (_, i) => v.get(i));
}

/** Builds every column of `rows` in `batch`-row pieces; returns seconds. */
function timeAll(build: Build): number {
  const t0 = process.hrtime.bigint();
  for (let from = 0; from < rows; from += batch) build(from, Math.min(batch, rows - from));
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

for (const kind of ['utf8', 'float64'] as const) {
  const methods: [string, Build][] = [
    ['ours', ours[kind]],
    ['makeBuilder', arrowBuilder[kind]],
    ['vectorFromArray', fromArray[kind]],
  ];
  const expected = valuesOf(ours[kind](0, Math.min(rows, batch)));
  for (const [name, build] of methods) {
    const got = valuesOf(build(0, Math.min(rows, batch)));
    if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`${kind} ${name}: output differs from ours`);
  }
  const times = new Map<string, number[]>(methods.map(([n]) => [n, []]));
  for (const [, build] of methods) timeAll(build); // warm-up
  for (let r = 0; r < rounds; r++) for (const [name, build] of methods) times.get(name)!.push(timeAll(build));
  const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1];
  const rate = new Map([...times].map(([n, t]) => [n, rows / median(t)]));
  const oursRate = rate.get('ours')!;
  for (const [name] of methods) {
    const r = rate.get(name)!;
    const ratio = name === 'ours' ? '' : `   ours is ${(oursRate / r).toFixed(1)}x`;
    console.log(`${kind.padEnd(8)} ${name.padEnd(16)} ${(r / 1e6).toFixed(2).padStart(7)} M rows/s${ratio}`);
  }
}
console.log(`(${rows} rows in columns of ${batch}, median of ${rounds} rounds, node ${process.version})`);
