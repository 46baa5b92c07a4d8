/**
 * schema.weight in file input: a CSV column, a JSON-lines key and an Arrow column become the
 * batch's sample_weight column (absent/empty = 1; negative, non-finite or not a number: a bad row
 * `bad_weight`); a file read without schema.weight has no weight column (every weight 1).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { WEIGHT_COLUMN } from '../../../src/features/columns.ts';
import { Featurizer } from '../../../src/features/featurizer.ts';
import { createFileSource, type FileFormat } from '../../../src/ingest/file-source.ts';
import { defaultInputColumns } from '../../../src/ingest/input-columns.ts';

const S = { numeric: ['n1'], categorical: ['c1'] };
const dir = mkdtempSync(path.join(os.tmpdir(), 'lionctr-weight-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function read(file: string, format: FileFormat, weight: string) {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  const src = createFileSource({ path: file, format, schema: S, columns: { ...defaultInputColumns(), weight } });
  const weights: number[] = [];
  const columns: string[] = [];
  const fz = new Featurizer({ ...S, embeddingDim: 2 });
  for await (const rb of src.batches({ batchSize: 16 })) {
    columns.push(...rb.schema.fields.map((f) => f.name));
    weights.push(...fz.fromRecordBatch(rb).weights);
  }
  warn.mockRestore();
  return { weights, bad: src.stats().bad, hasColumn: columns.includes(WEIGHT_COLUMN) };
}

describe('schema.weight in file input', () => {
  it('CSV: the weight column scales, empty = 1, bad values are bad_weight rows', async () => {
    const p = path.join(dir, 'w.csv');
    writeFileSync(p, 'label,n1,c1,w\n1,1,a,2.5\n0,2,b,\n0,3,c,-1\n1,4,d,abc\n0,5,e,0\n1,6,f,1e400\n');
    expect(await read(p, 'csv', 'w')).toEqual({ weights: [2.5, 1, 0], bad: { bad_weight: 3 }, hasColumn: true });
    // without schema.weight the column is one the config does not name: refused, as before
    await expect(read(p, 'csv', '')).rejects.toMatchObject({ reason: 'bad_header' });
  });

  it('JSON lines: a top-level key; absent or null = 1', async () => {
    const p = path.join(dir, 'w.jsonl');
    const lines = [
      '{"label":1,"wt":3,"features":{"n1":1}}',
      '{"label":0,"features":{"n1":1}}',
      '{"label":0,"wt":null,"features":{}}',
      '{"label":0,"wt":"-0.5","features":{}}',
      '{"label":1,"wt":"0.25","features":{}}',
    ];
    writeFileSync(p, `${lines.join('\n')}\n`);
    expect(await read(p, 'jsonl', 'wt')).toEqual({ weights: [3, 1, 1, 0.25], bad: { bad_weight: 1 }, hasColumn: true });
    // without schema.weight "wt" is a key the config does not name: those rows are bad (unknown_slot), as CSV refuses
    expect(await read(p, 'jsonl', '')).toEqual({ weights: [1], bad: { unknown_slot: 4 }, hasColumn: false });
  });

  it('Arrow IPC: a number column; null = 1', async () => {
    const p = path.join(dir, 'w.arrow');
    const t = tableFromArrays({
      label: Int8Array.from([1, 0, 0, 1]),
      n1: Float64Array.from([1, 2, 3, 4]),
      c1: ['a', 'b', 'c', 'd'],
      weight: Float64Array.from([0.5, Number.NaN, -2, 4]),
    });
    writeFileSync(p, tableToIPC(t, 'file'));
    expect(await read(p, 'arrow', 'weight')).toEqual({
      weights: [0.5, 4],
      bad: { bad_weight: 2 },
      hasColumn: true,
    });
  });
});
