/** The file source's sparse, gzip and Arrow IPC inputs, on real files in a tmp dir. */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  Bool,
  Dictionary,
  Float64,
  Int32,
  Int8,
  Table,
  TimestampMillisecond,
  Utf8,
  tableToIPC,
  vectorFromArray,
  type RecordBatch,
} from 'apache-arrow';
import { LionctrError } from '../../../src/errors.ts';
import { createFileSource, type FileFormat } from '../../../src/ingest/file-source.ts';
import type { SlotSchema } from '../../../src/ingest/source.ts';

const SLOTS: SlotSchema = { numeric: ['n1', 'n2'], categorical: ['c1', 'c2'] };
const dir = mkdtempSync(path.join(os.tmpdir(), 'lionctr-formats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, data: string | Uint8Array): string => {
  const p = path.join(dir, name);
  writeFileSync(p, data);
  return p;
};

/** Rows (column -> value, numbers as numbers) and bad counts of reading `p` whole. */
async function read(p: string, format: FileFormat, schema = SLOTS, extra = {}) {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  try {
    const src = createFileSource({ path: p, format, schema, ...extra });
    const batches: RecordBatch[] = [];
    for await (const b of src.batches({ batchSize: 3 })) batches.push(b);
    const rows = batches.flatMap((b) =>
      Array.from({ length: b.numRows }, (_, i) =>
        Object.fromEntries(b.schema.fields.map((f) => [f.name, b.getChild(f.name)!.get(i)])),
      ),
    );
    return { rows, bad: src.stats().bad, warnings: warn.mock.calls.map((c) => String(c[0])) };
  } finally {
    warn.mockRestore();
  }
}

const FFM = ['1 0:0:3 2:5:1 3:8:1', '-1 1:0:2.5 3:9:1', '1 0:0:1 0:1:1', '2 0:0:1', '0 9:1:1', '', '+1 2:6:1 1:4:7'];

describe('libffm and libsvm files', () => {
  it('reads libffm lines into slots and counts each bad line by reason', async () => {
    const { rows, bad } = await read(file('a.ffm', `${FFM.join('\n')}\n`), 'libffm');
    expect(rows.map((r) => [r.label, r.n1, r.n2, r.c1, r.c2, r.source_offset])).toEqual([
      [1, 3, null, '5', '8', 1],
      [0, null, 2.5, null, '9', 2],
      [1, null, 7, '6', null, 7],
    ]);
    expect(bad).toEqual({ duplicate_field: 1, bad_label: 1, unknown_field: 1 });
  });
  it('says once per file that categorical values other than 0/1 are not used', async () => {
    const r = await read(file('w.ffm', '1 2:5:0.5 3:6:0.5\n0 2:7:0.5 3:8:2\n'), 'libffm');
    expect(r.rows.map((x) => [x.c1, x.c2])).toEqual([
      ['5', '6'],
      ['7', '8'],
    ]);
    expect(r.warnings.filter((w) => w.includes('other than 0 and 1'))).toHaveLength(1);
  });

  it('reads libsvm with field ranges from fieldStarts', async () => {
    const p = file('a.svm', '1 1:3 2:1 10:1 2000:1\n0 3:1 1500:1\n');
    const { rows, bad } = await read(p, 'libsvm', SLOTS, { fieldStarts: [1, 2, 3, 1000] });
    expect(rows.map((r) => [r.label, r.n1, r.n2, r.c1, r.c2])).toEqual([
      [1, 3, 1, '10', '2000'],
      [0, null, null, '3', '1500'],
    ]);
    expect(bad).toEqual({});
  });
});

describe('gzip input', () => {
  const tsv = Array.from({ length: 20 }, (_, i) =>
    [i % 2, i, '', ...Array(11).fill('1'), ...Array(26).fill(`c${i}`)].join('\t'),
  ).join('\n');
  const criteo = {
    numeric: Array.from({ length: 13 }, (_, i) => `I${i + 1}`),
    categorical: Array.from({ length: 26 }, (_, i) => `C${i + 1}`),
  };

  it('is found by its magic bytes, not its name, in every line format', async () => {
    const plain = await read(file('p.tsv', `${tsv}\n`), 'criteo', criteo);
    const gz = await read(file('g.tsv', gzipSync(`${tsv}\n`)), 'criteo', criteo);
    expect(gz.rows).toEqual(plain.rows);
    expect(gz.rows).toHaveLength(20);
    const notGz = await read(file('n.tsv.gz', `${tsv}\n`), 'criteo', criteo);
    expect(notGz.rows).toEqual(plain.rows);
    const ffm = await read(file('a.ffm.gz', gzipSync(`${FFM.join('\n')}\n`)), 'libffm');
    expect(ffm.rows).toHaveLength(3);
    const csv = await read(file('a.csv.gz', gzipSync('label,n1,n2,c1,c2\n1,2,,x,\n0,,,y,\n')), 'csv');
    expect(csv.rows.map((r) => [r.label, r.n1, r.c1])).toEqual([
      [1, 2, 'x'],
      [0, null, 'y'],
    ]);
    const jsonl = await read(file('a.jsonl.gz', gzipSync('{"label":1,"features":{"c2":"z"}}\n')), 'jsonl');
    expect(jsonl.rows.map((r) => r.c2)).toEqual(['z']);
  });

  it('reads concatenated gzip members as one file', async () => {
    const p = file('m.ffm.gz', Buffer.concat([gzipSync('1 2:5:1\n'), gzipSync('0 3:6:1\n')]));
    expect((await read(p, 'libffm')).rows.map((r) => [r.c1, r.c2])).toEqual([
      ['5', null],
      [null, '6'],
    ]);
  });

  for (const format of ['criteo', 'csv'] as const) {
    it(`a truncated gzip (${format}) is an error naming the file, byte and line, not a short read`, async () => {
      const body =
        format === 'csv'
          ? `label,n1,n2,c1,c2\n${Array.from({ length: 3000 }, (_, i) => `1,,,v${i * 7919},`).join('\n')}`
          : tsv.repeat(200);
      const whole = gzipSync(`${body}\n`);
      const p = file(`t-${format}.gz`, whole.subarray(0, Math.floor(whole.length * 0.6)));
      const err = await read(p, format, format === 'csv' ? SLOTS : criteo).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LionctrError);
      const msg = (err as Error).message;
      expect(msg).toContain(p);
      expect(msg).toMatch(/gzip data is truncated or corrupt at compressed byte \d+ of \d+ \(after line \d+\)/);
      expect((err as LionctrError).code).toBe('LIONCTR_BAD_INPUT');
    });
  }
});

describe('Arrow IPC input', () => {
  const table = () =>
    new Table({
      label: vectorFromArray([1, 0, null, 2, 1, 0], new Int8()),
      ts: vectorFromArray([1.7e12, null, 1.7e12, 1.7e12, 5, 1.7e12], new Float64()),
      n1: vectorFromArray([1.5, null, 1, 1, 1, Number.NaN], new Float64()),
      n2: vectorFromArray([3, 4, 5, 6, 7, 8], new Int32()),
      c1: vectorFromArray(['a', '', 'c', 'd', 'e', 'f'], new Utf8()),
      c2: vectorFromArray(['x', 'y', null, 'x', 'y', 'x'], new Dictionary(new Utf8(), new Int32())),
      other: vectorFromArray([1, 2, 3, 4, 5, 6], new Int32()),
    });
  const expectRows = (r: Awaited<ReturnType<typeof read>>) => {
    expect(r.rows.map((x) => [x.label, x.event_time_ms, x.n1, x.n2, x.c1, x.c2, x.source_offset])).toEqual([
      [1, 1.7e12, 1.5, 3, 'a', 'x', 1],
      [0, null, null, 4, null, 'y', 2],
    ]);
    expect(r.bad).toEqual({ missing_label: 1, bad_label: 1, bad_timestamp: 1, bad_number: 1 });
    expect(r.warnings.join('\n')).toContain('ignored: other');
  };

  it('reads the IPC file and stream formats, columns by name, bad rows counted', async () => {
    expectRows(await read(file('a.arrow', tableToIPC(table(), 'file')), 'arrow'));
    expectRows(await read(file('a.arrows', tableToIPC(table(), 'stream')), 'arrow'));
    expectRows(await read(file('a.arrows.gz', gzipSync(tableToIPC(table(), 'stream'))), 'arrow'));
    expectRows(await read(file('b.arrow.gz', gzipSync(tableToIPC(table(), 'file'))), 'arrow'));
  });

  it('resumes at a row number (fromLine), as a checkpoint does; skip and limit count good rows', async () => {
    const p = file('r.arrows', tableToIPC(table(), 'stream'));
    const r = await read(p, 'arrow', SLOTS, { fromLine: 2 });
    expect(r.rows.map((x) => x.source_offset)).toEqual([2]);
    const g = await read(file('r.ffm.gz', gzipSync(`${FFM.join('\n')}\n`)), 'libffm', SLOTS, { fromLine: 3, limit: 1 });
    expect(g.rows.map((x) => x.source_offset)).toEqual([7]);
  });

  it('takes bool labels, integer categoricals and timestamps', async () => {
    const t = new Table({
      label: vectorFromArray([true, false], new Bool()),
      ts: vectorFromArray([1.7e12, 1.8e12], new TimestampMillisecond()),
      n1: vectorFromArray([1, 2], new Int32()),
      n2: vectorFromArray([1, 2], new Int32()),
      c1: vectorFromArray([7, 8], new Int32()),
      c2: vectorFromArray(['p', 'q'], new Utf8()),
    });
    const r = await read(file('c.arrow', tableToIPC(t, 'file')), 'arrow');
    expect(r.rows.map((x) => [x.label, x.event_time_ms, x.c1])).toEqual([
      [1, 1.7e12, '7'],
      [0, 1.8e12, '8'],
    ]);
  });

  it('refuses a missing slot column or a column of the wrong type, naming it', async () => {
    const t = new Table({ label: vectorFromArray([1], new Int8()), n1: vectorFromArray([1], new Float64()) });
    const e1 = await read(file('d.arrow', tableToIPC(t, 'file')), 'arrow').catch((e: Error) => e);
    expect(String(e1)).toMatch(/lacks the column\(s\) of slot\(s\) n2, c1, c2/);
    const t2 = new Table({
      label: vectorFromArray([1], new Int8()),
      n1: vectorFromArray(['1'], new Utf8()),
      n2: vectorFromArray([1], new Int32()),
      c1: vectorFromArray(['a'], new Utf8()),
      c2: vectorFromArray(['a'], new Utf8()),
    });
    const e2 = await read(file('e.arrow', tableToIPC(t2, 'stream')), 'arrow').catch((e: Error) => e);
    expect(String(e2)).toMatch(/Arrow column "n1" is Utf8, but a numeric slot must be integer or float/);
    const e3 = await read(file('f.arrow', 'label,n1\n1,2\n'), 'arrow').catch((e: Error) => e);
    expect(e3).toBeInstanceOf(LionctrError);
    expect(String(e3)).toContain('f.arrow');
    const whole = tableToIPC(table(), 'stream');
    const e4 = await read(file('g.arrows', whole.subarray(0, whole.length - 40)), 'arrow').catch((e: Error) => e);
    expect(e4).toBeInstanceOf(LionctrError);
    void readFileSync;
  });
});
