/**
 * Arrow IPC input from an independent producer: pyarrow (test/helpers/python-venv.ts; the test
 * skips saying why without it, and fails under CI=true) writes the Criteo sample as an IPC stream
 * (int64 counts, dictionary-encoded strings, several record batches) and as an IPC file
 * (float64 counts, plain strings); the file source reads each to exactly the rows it
 * reads from the TSV itself.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RecordBatch } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { criteoSlots } from '../../src/features/schema.ts';
import { createFileSource, type FileFormat } from '../../src/ingest/file-source.ts';
import { findPython } from '../helpers/python-venv.ts';
import { CRITEO_TSV, haveShared } from '../helpers/shared.ts';

const run = promisify(execFile);
const choice = await findPython(['pyarrow']);
const ci = process.env.CI === 'true';
if (!choice.python && !ci) console.warn(`pyarrow interop test skipped: ${choice.why}`);

/** Writes `tsv` as an Arrow IPC stream (argv[2]) and file (argv[3]) with pyarrow. */
const WRITER = `
import sys, pyarrow as pa, pyarrow.csv as pc
names = ['label'] + [f'I{i}' for i in range(1, 14)] + [f'C{i}' for i in range(1, 27)]
types = {'label': pa.int8(), **{f'I{i}': pa.int64() for i in range(1, 14)},
         **{f'C{i}': pa.string() for i in range(1, 27)}}
t = pc.read_csv(sys.argv[1], read_options=pc.ReadOptions(column_names=names),
                parse_options=pc.ParseOptions(delimiter='\\t', quote_char=False),
                convert_options=pc.ConvertOptions(column_types=types, strings_can_be_null=True))
dict_t = t.select(names[:14]).append_column('C1', t['C1'].dictionary_encode())
for i in range(2, 27):
    dict_t = dict_t.append_column(f'C{i}', t[f'C{i}'].dictionary_encode())
with pa.ipc.new_stream(sys.argv[2], dict_t.schema) as w:
    for b in dict_t.to_batches(max_chunksize=1500):
        w.write_batch(b)
f_t = t.cast(pa.schema([(n, pa.float64() if n.startswith('I') else types[n]) for n in names]))
with pa.ipc.new_file(sys.argv[3], f_t.schema) as w:
    w.write_table(f_t, max_chunksize=4000)
print(t.num_rows)
`;

/** Every row of `path` read by the file source in `format`, without source_offset. */
async function rowsOf(path: string, format: FileFormat): Promise<unknown[][]> {
  const src = createFileSource({ path, format, schema: criteoSlots() });
  const out: unknown[][] = [];
  for await (const b of src.batches({ batchSize: 1000 }) as AsyncIterable<RecordBatch>) {
    const cols = b.schema.fields.filter((f) => f.name !== 'source_offset').map((f) => b.getChild(f.name)!);
    for (let i = 0; i < b.numRows; i++) out.push(cols.map((c) => c.get(i)));
  }
  expect(src.stats().bad).toEqual({});
  return out;
}

describe.skipIf((!choice.python && !ci) || !haveShared(CRITEO_TSV))('Arrow IPC written by pyarrow', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads to the same rows as the Criteo TSV, stream and file format', async () => {
    if (!choice.python) throw new Error(`no Python with pyarrow: ${choice.why}`);
    dir = await mkdtemp(join(tmpdir(), 'lionctr-pyarrow-'));
    const stream = join(dir, 'criteo.arrows'),
      file = join(dir, 'criteo.arrow');
    const { stdout } = await run(choice.python, ['-c', WRITER, CRITEO_TSV, stream, file]);
    const want = await rowsOf(CRITEO_TSV, 'criteo');
    expect(Number(stdout.trim())).toBe(want.length);
    expect(await rowsOf(stream, 'arrow')).toEqual(want);
    expect(await rowsOf(file, 'arrow')).toEqual(want);
  }, 120_000);
});
