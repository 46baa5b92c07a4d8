/**
 * Conversions of the Criteo TSV (label, I1..I13, C1..C26) into the other input formats, as a
 * user's own tooling would write them, for the format tests: libFFM (fields 0..38: field j < 13
 * `j:j:<count>`, categorical field 13+k `f:<global dictionary index>:1`), libSVM (index j+1
 * holds I<j+1>; each C column gets its own index range of dictionary indices; the field
 * starts are returned for source.libsvm.fieldStarts), JSON lines and an Arrow IPC table.
 * Missing cells are left out (sparse) or null. Dictionaries are built over the whole file.
 */
import { readFileSync } from 'node:fs';
import { Float64, Int8, Table, Utf8, type Vector, vectorFromArray } from 'apache-arrow';

/** The Criteo file's rows as cells: [label, I1..I13, C1..C26] strings ('' = missing). */
export function criteoCells(tsv: string): string[][] {
  return readFileSync(tsv, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}

/** libFFM text of `rows` (one line per row, fields 0..38). */
export function toLibffm(rows: string[][]): string {
  const dict = new Map<string, number>();
  const out: string[] = [];
  for (const r of rows) {
    const f: string[] = [r[0]];
    for (let j = 0; j < 13; j++) if (r[1 + j] !== '') f.push(`${j}:${j}:${r[1 + j]}`);
    for (let k = 0; k < 26; k++) {
      const v = r[14 + k];
      if (v === '') continue;
      const key = `${k}\u0000${v}`;
      let id = dict.get(key);
      if (id === undefined) {
        id = dict.size;
        dict.set(key, id);
      }
      f.push(`${13 + k}:${id}:1`);
    }
    out.push(f.join(' '));
  }
  return `${out.join('\n')}\n`;
}

/** libSVM text of `rows` (labels written -1/+1, 1-based indices) and its field starts. */
export function toLibsvm(rows: string[][]): { text: string; fieldStarts: number[] } {
  const dicts = Array.from({ length: 26 }, () => new Map<string, number>());
  for (const r of rows)
    for (let k = 0; k < 26; k++)
      if (r[14 + k] !== '' && !dicts[k].has(r[14 + k])) dicts[k].set(r[14 + k], dicts[k].size);
  const fieldStarts = Array.from({ length: 13 }, (_, j) => j + 1);
  let next = 14;
  for (const d of dicts) {
    fieldStarts.push(next);
    next += Math.max(1, d.size);
  }
  const out = rows.map((r) => {
    const f: string[] = [r[0] === '1' ? '+1' : '-1'];
    for (let j = 0; j < 13; j++) if (r[1 + j] !== '') f.push(`${j + 1}:${r[1 + j]}`);
    for (let k = 0; k < 26; k++) if (r[14 + k] !== '') f.push(`${fieldStarts[13 + k] + dicts[k].get(r[14 + k])!}:1`);
    return f.join(' ');
  });
  return { text: `${out.join('\n')}\n`, fieldStarts };
}

/** JSON lines of `rows` (the JSON-lines shape, missing cells left out). */
export function toJsonl(rows: string[][]): string {
  const lines = rows.map((r) => {
    const features: Record<string, string | number> = {};
    for (let j = 0; j < 13; j++) if (r[1 + j] !== '') features[`I${j + 1}`] = Number(r[1 + j]);
    for (let k = 0; k < 26; k++) if (r[14 + k] !== '') features[`C${k + 1}`] = r[14 + k];
    return JSON.stringify({ label: Number(r[0]), features });
  });
  return `${lines.join('\n')}\n`;
}

/** An Arrow table of `rows`: label Int8, I1..I13 Float64, C1..C26 Utf8 (nulls for missing). */
export function toArrowTable(rows: string[][]): Table {
  const cols: Record<string, Vector> = {
    label: vectorFromArray(
      rows.map((r) => Number(r[0])),
      new Int8(),
    ),
  };
  for (let j = 0; j < 13; j++)
    cols[`I${j + 1}`] = vectorFromArray(
      rows.map((r) => (r[1 + j] === '' ? null : Number(r[1 + j]))),
      new Float64(),
    );
  for (let k = 0; k < 26; k++)
    cols[`C${k + 1}`] = vectorFromArray(
      rows.map((r) => (r[14 + k] === '' ? null : r[14 + k])),
      new Utf8(),
    );
  return new Table(cols);
}
