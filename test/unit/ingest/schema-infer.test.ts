import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../src/config/schema.ts';
import { looksLikeHeader, sampleCsv, sampleJsonl, sniffDelimiter } from '../../../src/ingest/column-sample.ts';
import { createFileSource } from '../../../src/ingest/file-source.ts';
import { defaultInputColumns, type InputColumns } from '../../../src/ingest/input-columns.ts';
import { inferSchema } from '../../../src/ingest/schema-infer.ts';
import type { SlotSchema } from '../../../src/ingest/source.ts';
import { timeParser } from '../../../src/ingest/time-format.ts';
import { AVAZU_CATEGORICAL, avazuLikeLines } from '../../helpers/click-log.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lionctr-infer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
const S: SlotSchema = { numeric: ['n1'], categorical: ['c1'] };
const T_S = 1700000000; // 2023-11-14 22:13:20 UTC, in seconds

/** The event times and bad-row counts of a file read with `columns`. */
async function timesOf(p: string, format: 'csv' | 'jsonl', columns: InputColumns) {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  const src = createFileSource({ path: p, format, schema: S, columns });
  const out: (number | null)[] = [];
  for await (const b of src.batches({ batchSize: 16 })) out.push(...b.getChild('event_time_ms')!.toArray());
  warn.mockRestore();
  return { times: out, bad: src.stats().bad };
}

describe('time column format (schema.time.format)', () => {
  it('ms, s and YYMMDDHH read to ms since the epoch (UTC); out-of-range and malformed values are refused', () => {
    expect(timeParser('ts', 'ms')(`${T_S}000`, 'x')).toBe(T_S * 1000);
    expect(timeParser('ts', 's')(`${T_S}`, 'x')).toBe(T_S * 1000);
    expect(timeParser('ts', 's')(T_S + 0.5, 'x')).toBe(T_S * 1000 + 500);
    expect(timeParser('hour', 'YYMMDDHH')('14102103', 'x')).toBe(Date.UTC(2014, 9, 21, 3));
    expect(timeParser('d', 'YYYY-MM-DD HH:mm:ss')('2024-02-29 23:59:58', 'x')).toBe(Date.UTC(2024, 1, 29, 23, 59, 58));
    expect(timeParser('ts', 'ms')('', 'x')).toBeNull();
    expect(() => timeParser('ts', 'ms')(`${T_S}`, 'x')).toThrow(/seconds\? set schema\.time\.format to "s"/);
    expect(() => timeParser('ts', 's')(`${T_S}000`, 'x')).toThrow(/milliseconds\?/);
    for (const bad of ['14132100', '14022900', '1410210', 'x4102100']) {
      expect(() => timeParser('hour', 'YYMMDDHH')(bad, 'x')).toThrow(
        expect.objectContaining({ reason: 'bad_timestamp' }),
      );
    }
  });

  it('the config refuses a format that is none of ms, s or a dated pattern', () => {
    expect(loadConfig([], ['schema.time.format=YYMMDDHH']).schema.time.format).toBe('YYMMDDHH');
    expect(() => loadConfig([], ['schema.time.format=seconds'])).toThrow(/schema\.time\.format: must be "ms", "s"/);
    expect(() => loadConfig([], ['source.csv.delimiter=;;'])).toThrow(/source\.csv\.delimiter/);
    expect(loadConfig([], ['source.csv.delimiter=tab']).source.csv.delimiter).toBe('tab');
  });

  it('CSV ts in seconds is a bad_timestamp under ms (not a 1970 time), read right under s: as JSON lines', async () => {
    const csv = file('t.csv', `label,ts,n1,c1\n1,${T_S},1,a\n0,${T_S + 60},2,b\n`);
    const jsonl = file('t.jsonl', `{"label":1,"ts":${T_S},"features":{}}\n{"label":0,"ts":"${T_S + 60}"}\n`);
    const ms = defaultInputColumns();
    const s = { ...ms, time: { column: 'ts', format: 's' } };
    for (const [p, f] of [
      [csv, 'csv'],
      [jsonl, 'jsonl'],
    ] as const) {
      expect(await timesOf(p, f, ms), f).toEqual({ times: [], bad: { bad_timestamp: 2 } });
      expect(await timesOf(p, f, s), f).toEqual({ times: [T_S * 1000, (T_S + 60) * 1000], bad: {} });
    }
  });

  it('JSON lines take the time key and pattern of schema.time', async () => {
    const p = file('h.jsonl', '{"label":1,"hour":14102100}\n{"label":0,"hour":"14102101"}\n');
    const cols = { ...defaultInputColumns(), time: { column: 'hour', format: 'YYMMDDHH' } };
    expect((await timesOf(p, 'jsonl', cols)).times).toEqual([Date.UTC(2014, 9, 21), Date.UTC(2014, 9, 21, 1)]);
  });
});

describe('schema.ignore in JSON lines', () => {
  it('an ignored features key is not warned about; another unknown key is', async () => {
    const p = file('ig.jsonl', '{"label":1,"features":{"uid":"a","n1":1,"zz":2}}\n');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const columns = { ...defaultInputColumns(), ignore: ['uid'], unknownSlots: 'ignore' as const };
    for await (const _ of createFileSource({ path: p, format: 'jsonl', schema: S, columns }).batches({ batchSize: 4 }))
      void _;
    const said = warn.mock.calls.flat().join('\n');
    warn.mockRestore();
    expect(said).toMatch(/slot "zz"/);
    expect(said).not.toMatch(/uid/);
  });
});

describe('header-less CSV/TSV (source.csv.header false, source.csv.columns)', () => {
  it('reads the first line as data with the configured names and delimiter', async () => {
    const p = file('nh.tsv', `1\t${T_S}000\t0\t4.5\tq\n0\t\t0\t\tr\n`);
    const columns: InputColumns = {
      ...defaultInputColumns(),
      ignore: ['z'],
      csv: { header: false, columns: ['label', 'ts', 'z', 'n1', 'c1'], delimiter: 'tab' },
    };
    const src = createFileSource({ path: p, format: 'csv', schema: S, columns });
    const rows: unknown[] = [];
    for await (const b of src.batches({ batchSize: 8 })) for (const r of b) rows.push(r.toJSON());
    expect(rows).toMatchObject([
      { label: 1, event_time_ms: T_S * 1000, n1: 4.5, c1: 'q', source_offset: 1 },
      { label: 0, event_time_ms: null, n1: null, c1: 'r', source_offset: 2 },
    ]);
  });

  it('without names it is a config error; a header-less file read with a header says what to set', async () => {
    const p = file('nh.csv', '0,1,0\n1,2,0\n');
    const noNames = { ...defaultInputColumns(), csv: { header: false, columns: [], delimiter: ',' } };
    const read = async (columns: InputColumns) => {
      for await (const _ of createFileSource({ path: p, format: 'csv', schema: S, columns }).batches({ batchSize: 8 }))
        void _;
    };
    await expect(read(noNames)).rejects.toThrow(/name the columns in source\.csv\.columns/);
    await expect(read(defaultInputColumns())).rejects.toThrow(
      /duplicate CSV column "0".*set source\.csv\.header false and name its columns in source\.csv\.columns/,
    );
  });
});

describe('schema infer rules', () => {
  it('an Avazu-like log: click is the label, hour YYMMDDHH the time, id ignored, codes categorical', async () => {
    const p = file('avazu.csv', `${avazuLikeLines(3000).join('\n')}\n`);
    const sample = await sampleCsv(p, 2000);
    expect(sample.csv).toEqual({ delimiter: ',', header: true });
    expect(sample.rows).toBe(2000);
    const inf = inferSchema(sample);
    expect(inf.label).toBe('click');
    expect(inf.time).toEqual({ column: 'hour', format: 'YYMMDDHH' });
    expect(inf.ignore).toEqual(['id']);
    expect(inf.numeric).toEqual(['price', 'views']);
    expect(inf.categorical).toEqual(AVAZU_CATEGORICAL);
    expect(inf.notes.join('\n')).toMatch(/id: ignore \(id-like: 2000 distinct of 2000; a value seen once/);
    expect(inferSchema(sample, 'C15').label).toBe('C15');
    expect(() => inferSchema(sample, 'nope')).toThrow(/--label nope: no such column/);
  });

  it('a header-less TSV: tab sniffed, no header, columns c1..cN, the first 0/1 column the label', async () => {
    const p = file('nh2.tsv', '0\t5\tab\t1700000000\n1\t7\tcd\t1700000060\n0\t9\tab\t1700000120\n');
    expect(sniffDelimiter('0\t5\tab,c')).toBe('\t');
    const sample = await sampleCsv(p, 100);
    expect(sample).toMatchObject({ names: ['c1', 'c2', 'c3', 'c4'], csv: { delimiter: '\t', header: false } });
    const inf = inferSchema(sample);
    expect(inf.label).toBe('c1');
    expect(inf.notes[0]).toMatch(/first column of 0s and 1s/);
    expect(looksLikeHeader(['label', 'a', 'b'], [['0', 'x', 'y']])).toBe(true);
    expect(looksLikeHeader(['ab', 'cd'], [['ab', 'zz']])).toBe(false); // a value repeats: data
  });

  it('JSON lines: features and the ts unit (seconds)', async () => {
    const lines = Array.from({ length: 60 }, (_, i) =>
      JSON.stringify({ label: i % 2, ts: T_S + i, features: { u: `x${i % 3}`, n: i * 1.5 } }),
    );
    const inf = inferSchema(await sampleJsonl(file('a.jsonl', `${lines.join('\n')}\n`), 100, 'ts'));
    expect(inf).toMatchObject({
      label: 'label',
      time: { column: 'ts', format: 's' },
      numeric: ['n'],
      categorical: ['u'],
    });
  });
});

describe('sampleJsonl on lines without "features"', () => {
  it('refuses flat lines with a message naming the expected shape and the keys found', async () => {
    const p = file('flat.jsonl', '{"label":1,"a":"x","b":2}\n{"label":0,"a":"y","b":3}\n');
    await expect(sampleJsonl(p, 100, 'ts')).rejects.toThrow(/no "features" object but top-level keys a, b/);
  });

  it('has no time column (and so no note about its format) when no line has the time key', async () => {
    const p = file('nots.jsonl', '{"label":1,"features":{"a":"x"}}\n{"label":0,"features":{"a":"y"}}\n');
    const sample = await sampleJsonl(p, 100, 'ts');
    expect(sample.names).toEqual(['label', 'a']);
    const inf = inferSchema(sample);
    expect(inf.notes.join('\n')).not.toMatch(/time name/);
    expect(inf.ignore).toEqual([]);
  });
});
