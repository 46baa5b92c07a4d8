import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Float64, Int32, Int8, Utf8, type RecordBatch } from 'apache-arrow';
import { LionctrError } from '../../../src/errors.ts';
import { numericBucket } from '../../../src/features/numeric.ts';
import { rowsToRecordBatch } from '../../../src/ingest/arrow/record-batch-builder.ts';
import type { SlotSchema, Source } from '../../../src/ingest/source.ts';
import { criteoSlots } from '../../../src/features/schema.ts';
import { defaultInputColumns } from '../../../src/ingest/input-columns.ts';
import { createFileSource } from '../../../src/ingest/file-source.ts';
import { decodeCriteoLine } from '../../../src/ingest/criteo-decoder.ts';
import { createJsonlDecoder } from '../../../src/ingest/jsonl-decoder.ts';
import { createSyntheticSource, SYNTHETIC_START_MS } from '../../../src/ingest/synthetic-source.ts';
import {
  bucketIndex,
  bucketTokenIndex,
  VOCAB_SIZES,
  zipfRank,
  zipfTable,
} from '../../../src/ingest/synthetic-model.ts';

const SMALL: SlotSchema = { numeric: ['n1', 'n2'], categorical: ['c1', 'c2'] };

async function collect(src: Source, batchSize = 1000): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of src.batches({ batchSize })) out.push(b);
  return out;
}

/** All rows of the batches as plain objects (column name -> value). */
function rowsOf(batches: RecordBatch[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const b of batches) {
    const names = b.schema.fields.map((f) => f.name);
    for (let i = 0; i < b.numRows; i++) {
      const r: Record<string, unknown> = {};
      for (const n of names) r[n] = b.getChild(n)!.get(i);
      out.push(r);
    }
  }
  return out;
}

let dir = '';
function tmpFile(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lionctr-ingest-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('RecordBatch builder', () => {
  it('has the contract columns, types, nulls and order', () => {
    const b = rowsToRecordBatch(
      SMALL,
      [
        { label: 1, eventTimeMs: null, numeric: [1.5, null], categorical: ['abc', null] },
        { label: 0, eventTimeMs: 123, numeric: [NaN, -7], categorical: ['é€x', ''] },
      ],
      { offsets: [2, 3] },
    );
    expect(b.schema.fields.map((f) => f.name)).toEqual([
      'label',
      'event_time_ms',
      'n1',
      'n2',
      'c1',
      'c2',
      'source_partition',
      'source_offset',
    ]);
    const types = b.schema.fields.map((f) => f.type);
    expect(types[0]).toBeInstanceOf(Int8);
    expect(types[1]).toBeInstanceOf(Float64);
    expect(types[2]).toBeInstanceOf(Float64);
    expect(types[4]).toBeInstanceOf(Utf8);
    expect(types[6]).toBeInstanceOf(Int32);
    expect(types[7]).toBeInstanceOf(Float64);
    expect(rowsOf([b])).toEqual([
      { label: 1, event_time_ms: null, n1: 1.5, n2: null, c1: 'abc', c2: null, source_partition: 0, source_offset: 2 },
      { label: 0, event_time_ms: 123, n1: null, n2: -7, c1: 'é€x', c2: '', source_partition: 0, source_offset: 3 },
    ]);
    expect(b.getChild('n2')!.nullCount).toBe(1);
    expect(b.getChild('label')!.nullCount).toBe(0);
  });
});

describe('criteo file source', () => {
  const fields = (label: string, i: string[], c: string[]) => [label, ...i, ...c].join('\t');
  const I = (v: string) => Array.from({ length: 13 }, (_, k) => (k === 2 ? '' : k === 1 ? v : String(k)));
  const C = (v: string) => Array.from({ length: 26 }, (_, k) => (k === 25 ? '' : `${v}${k}`));

  it('decodes rows, nulls and line offsets; counts and skips bad rows', async () => {
    const lines = [
      fields('1', I('-3'), C('a')), // line 1
      fields('0', I('12'), C('b')), // 2
      'only\tthree\tfields', // 3 wrong_field_count
      fields('2', I('1'), C('x')), // 4 bad_label
      fields('0', I('1x'), C('y')), // 5 bad_number
      '', // 6 blank: skipped silently
      fields('', I('1'), C('z')), // 7 missing_label
      `${fields('1', I('7'), C('c'))}\r`, // 8 CRLF
    ];
    const p = tmpFile('a.tsv', lines.join('\n'));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const src = createFileSource({ path: p, format: 'criteo', schema: criteoSlots() });
    const batches = await collect(src, 2);
    const warned = warn.mock.calls.map((c) => String(c[0]));
    warn.mockRestore();
    expect(batches.map((b) => b.numRows)).toEqual([2, 1]);
    const rows = rowsOf(batches);
    expect(rows.map((r) => r.source_offset)).toEqual([1, 2, 8]);
    expect(rows.map((r) => r.label)).toEqual([1, 0, 1]);
    expect(rows[0]).toMatchObject({
      event_time_ms: null,
      I1: 0,
      I2: -3,
      I3: null,
      I13: 12,
      C1: 'a0',
      C25: 'a24',
      C26: null,
      source_partition: 0,
    });
    expect(rows[2]).toMatchObject({ I2: 7, C1: 'c0' });
    expect(src.stats()).toEqual({
      rows: 3,
      bad: { wrong_field_count: 1, bad_label: 1, bad_number: 1, missing_label: 1 },
    });
    expect(warned).toHaveLength(4);
    expect(warned[0]).toContain(`${p}:3`);
    expect(warned[0]).toContain('wrong_field_count');
  });

  it('applies skip (data lines) and limit (good rows)', async () => {
    const p = tmpFile(
      'b.tsv',
      `${Array.from({ length: 10 }, (_, k) => fields(String(k % 2), I(String(k)), C('v'))).join('\n')}\n`,
    );
    const src = createFileSource({ path: p, format: 'criteo', schema: criteoSlots(), skip: 3, limit: 4 });
    const rows = rowsOf(await collect(src, 3));
    expect(rows.map((r) => r.source_offset)).toEqual([4, 5, 6, 7]);
    expect(rows.map((r) => r.I2)).toEqual([3, 4, 5, 6]);
    expect(src.stats().rows).toBe(4);
  });

  it('throws LIONCTR_BAD_INPUT naming a missing file', () => {
    const missing = path.join(dir, 'nope.tsv');
    let err: unknown;
    try {
      createFileSource({ path: missing, format: 'criteo', schema: criteoSlots() });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LionctrError);
    expect((err as LionctrError).code).toBe('LIONCTR_BAD_INPUT');
    expect((err as LionctrError).message).toContain(missing);
  });

  it('decoder throws typed errors', () => {
    expect(() => decodeCriteoLine('1\t2', 'f:1')).toThrow(
      expect.objectContaining({ code: 'LIONCTR_BAD_INPUT', reason: 'wrong_field_count' }),
    );
  });

  const real = path.resolve(process.cwd(), '../shared/data/criteo-10k/criteo_10k.tsv');
  const exists = existsSync(real);
  if (!exists) console.warn(`skipping the real Criteo test: ${real} is absent`);
  it.skipIf(!exists)('reads the real Criteo 10k sample: 9,999 rows, 2,181 positives', async () => {
    const src = createFileSource({ path: real, format: 'criteo', schema: criteoSlots() });
    let n = 0;
    let pos = 0;
    let last = 0;
    for await (const b of src.batches({ batchSize: 4096 })) {
      n += b.numRows;
      for (const v of b.getChild('label')!.toArray() as Int8Array) pos += v;
      last = b.getChild('source_offset')!.get(b.numRows - 1);
    }
    expect(n).toBe(9999);
    expect(pos).toBe(2181);
    expect(last).toBe(9999);
    expect(src.stats()).toEqual({ rows: 9999, bad: {} });
  });
});

describe('csv file source', () => {
  it('maps header columns, ignored columns and empty cells; offsets count the header', async () => {
    const T = 1700000000000;
    const text = [
      'c2,label,ts,n1,extra',
      `x,1,${T + 1000},2.5,zz`,
      ',0,,,',
      `"q,uoted",1,${T + 2000},abc,`,
      `y,1,${T + 3000},4`,
      'z,true,1,1,1',
      `w,0,${T + 5000},-1e3,`,
    ].join('\n');
    const p = tmpFile('a.csv', text);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const columns = { ...defaultInputColumns(), ignore: ['extra'] };
    const src = createFileSource({ path: p, format: 'csv', schema: { numeric: ['n1'], categorical: ['c2'] }, columns });
    const rows = rowsOf(await collect(src));
    warn.mockRestore();
    expect(rows).toEqual([
      { label: 1, event_time_ms: T + 1000, n1: 2.5, c2: 'x', source_partition: 0, source_offset: 2 },
      { label: 0, event_time_ms: null, n1: null, c2: null, source_partition: 0, source_offset: 3 },
      { label: 0, event_time_ms: T + 5000, n1: -1000, c2: 'w', source_partition: 0, source_offset: 7 },
    ]);
    expect(src.stats().bad).toEqual({ bad_number: 1, wrong_field_count: 1, bad_label: 1 });
  });

  it('a header without label is a bad input', async () => {
    const p = tmpFile('b.csv', 'n1,c1\n1,a\n');
    const src = createFileSource({ path: p, format: 'csv', schema: SMALL });
    await expect(collect(src)).rejects.toMatchObject({ code: 'LIONCTR_BAD_INPUT', reason: 'missing_label' });
  });
});

describe('jsonl file source', () => {
  it('decodes features, ts, numeric strings, numbers as categorical; skips bad lines by reason', async () => {
    const lines = [
      JSON.stringify({ label: 1, ts: 1700000000000, features: { n1: 3, n2: '4.5', c1: 'a', c2: 17, other: 1 } }),
      '{not json',
      JSON.stringify({ ts: 1 }),
      JSON.stringify({ label: true, features: {} }),
      JSON.stringify({ label: 0, features: { n1: 'abc' } }),
      JSON.stringify({ label: 0, features: { c1: { a: 1 } } }),
      JSON.stringify({ label: 0 }),
      JSON.stringify({ label: 0, ts: 1.7e15 }), // microseconds
      '{"label":0,"features":{"n1":1e400}}', // Infinity after JSON.parse
    ];
    const p = tmpFile('a.jsonl', `${lines.join('\n')}\n`);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const columns = { ...defaultInputColumns(), unknownSlots: 'ignore' as const };
    const src = createFileSource({ path: p, format: 'jsonl', schema: SMALL, columns });
    const rows = rowsOf(await collect(src));
    expect(warn).toHaveBeenCalledTimes(6); // 5 bad rows + the unknown slot "other", once
    const said = warn.mock.calls.flat().join('\n');
    expect(said).toMatch(/slot "other", which the schema does not have; it is ignored/);
    expect(said).toMatch(/\(schema\.unknownSlots=ignore; first seen at .*a\.jsonl:1\)/);
    warn.mockRestore();
    expect(rows).toEqual([
      {
        label: 1,
        event_time_ms: 1700000000000,
        n1: 3,
        n2: 4.5,
        c1: 'a',
        c2: '17',
        source_partition: 0,
        source_offset: 1,
      },
      { label: 0, event_time_ms: null, n1: null, n2: null, c1: null, c2: null, source_partition: 0, source_offset: 7 },
    ]);
    expect(src.stats()).toEqual({
      rows: 2,
      bad: { bad_json: 1, missing_label: 1, bad_label: 1, bad_number: 2, wrong_type: 1, bad_timestamp: 1 },
    });
  });

  it('under schema.unknownSlots=reject (the default) a line with an unknown slot is a bad row, counted', async () => {
    const lines = ['{"label":1,"features":{"n1":3,"other":1}}', '{"label":0,"features":{"n1":2}}'];
    const p = tmpFile('rej.jsonl', `${lines.join('\n')}\n`);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const src = createFileSource({ path: p, format: 'jsonl', schema: SMALL });
    const rows = rowsOf(await collect(src));
    expect(warn.mock.calls.flat().join('\n')).toMatch(/\[unknown_slot\].*features\.other is not a slot/);
    warn.mockRestore();
    expect(rows.map((r) => r.source_offset)).toEqual([2]);
    expect(src.stats()).toEqual({ rows: 1, bad: { unknown_slot: 1 } });
  });

  it('decoder rejects labels other than 0/1', () => {
    const dec = createJsonlDecoder(SMALL);
    expect(() => dec('{"label":2}', 'x:1')).toThrow(expect.objectContaining({ reason: 'bad_label' }));
    expect(() => dec('[1]', 'x:1')).toThrow(expect.objectContaining({ reason: 'bad_json' }));
  });
});

describe('synthetic source', () => {
  it('has the contract columns plus bayes_p, consistent values', async () => {
    const src = createSyntheticSource({ seed: 3, limit: 5000 });
    const batches = await collect(src, 4096);
    expect(batches.map((b) => b.numRows)).toEqual([4096, 904]);
    const b = batches[0];
    expect(b.schema.fields.map((f) => f.name)).toEqual([
      'label',
      'event_time_ms',
      ...src.schema.numeric,
      ...src.schema.categorical,
      'source_partition',
      'source_offset',
      'bayes_p',
    ]);
    expect(b.getChild('C1')!.type).toBeInstanceOf(Utf8);
    expect(b.getChild('I1')!.nullCount).toBe(0);
    expect(b.getChild('source_offset')!.get(10)).toBe(10);
    expect(b.getChild('event_time_ms')!.get(10)).toBe(SYNTHETIC_START_MS + 100);
    for (let i = 0; i < 200; i++) {
      for (let s = 0; s < 26; s++) {
        const r = Number(b.getChild(`C${s + 1}`)!.get(i));
        expect(r >= 1 && r <= VOCAB_SIZES[s] && Number.isInteger(r)).toBe(true);
      }
      const x = b.getChild('I5')!.get(i) as number;
      expect(Number.isInteger(x) && x >= 0).toBe(true);
      const p = b.getChild('bayes_p')!.get(i) as number;
      expect(p > 0 && p < 1).toBe(true);
    }
    expect(src.stats()).toEqual({ rows: 5000, bad: {} });
  });

  it('is deterministic per seed, differs across seeds, and resumes at startOffset', async () => {
    const a = rowsOf(await collect(createSyntheticSource({ seed: 7, limit: 3000 }), 1024));
    const a2 = rowsOf(await collect(createSyntheticSource({ seed: 7, limit: 3000 }), 777));
    const tail = rowsOf(await collect(createSyntheticSource({ seed: 7, startOffset: 1234, limit: 1766 }), 500));
    const other = rowsOf(await collect(createSyntheticSource({ seed: 8, limit: 3000 }), 1024));
    expect(a2).toEqual(a);
    expect(tail).toEqual(a.slice(1234));
    expect(other.map((r) => r.C26)).not.toEqual(a.map((r) => r.C26));
  });

  it('freshIdSlots: the last N slots carry never-seen ids, everything else (labels too) unchanged', async () => {
    const plain = rowsOf(await collect(createSyntheticSource({ seed: 7, limit: 3000 }), 1024));
    const fresh = rowsOf(await collect(createSyntheticSource({ seed: 7, limit: 3000, freshIdSlots: 2 }), 700));
    const seen = new Set<string>();
    for (const [i, r] of fresh.entries()) {
      for (const c of ['C25', 'C26']) {
        const v = String(r[c]);
        expect(Number(v)).toBeGreaterThan(VOCAB_SIZES[Number(c.slice(1)) - 1]);
        expect(seen.has(`${c}:${v}`)).toBe(false);
        seen.add(`${c}:${v}`);
      }
      const { C25, C26, ...rest } = plain[i];
      expect({ ...r, C25, C26 }).toEqual({ ...rest, C25, C26 });
    }
    expect(() => createSyntheticSource({ freshIdSlots: 27 })).toThrow(/freshIdSlots must be an integer 0\.\.26/);
  });

  it('numeric buckets are numericBucket tokens; Zipf inverse CDF is right at the edges', () => {
    for (const x of [0, 1, 2, 3, 7, 100, 65535, 65536, 1e7]) {
      const tok = numericBucket(x)!;
      expect(bucketIndex(x)).toBe(bucketTokenIndex(tok));
    }
    const z = zipfTable(10);
    expect(zipfRank(z, 1e-12)).toBe(1);
    expect(zipfRank(z, 1 - 1e-12)).toBe(10);
    expect(zipfRank(z, z.cdf[0])).toBe(1);
    expect(zipfRank(z, z.cdf[0] + 1e-12)).toBe(2);
  });

  it('has a CTR near the measured 3.86% over 200k examples (seed 1)', async () => {
    let n = 0;
    let pos = 0;
    let sumP = 0;
    for await (const b of createSyntheticSource({ seed: 1, limit: 200_000 }).batches({ batchSize: 4096 })) {
      const l = b.getChild('label')!.toArray() as Int8Array;
      const p = b.getChild('bayes_p')!.toArray() as Float64Array;
      for (let i = 0; i < l.length; i++) {
        pos += l[i];
        sumP += p[i];
      }
      n += b.numRows;
    }
    expect(n).toBe(200_000);
    const ctr = pos / n;
    expect(ctr).toBeGreaterThan(0.0386 * 0.8);
    expect(ctr).toBeLessThan(0.0386 * 1.2);
    // labels are drawn from bayes_p: the mean probability matches the CTR closely
    expect(Math.abs(sumP / n - ctr)).toBeLessThan(0.002);
  });

  it('stops on abort', async () => {
    const ac = new AbortController();
    let n = 0;
    for await (const b of createSyntheticSource({ seed: 1 }).batches({ batchSize: 256, signal: ac.signal })) {
      n += b.numRows;
      if (n >= 1024) ac.abort();
    }
    expect(n).toBe(1024);
  });
});
