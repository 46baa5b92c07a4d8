/**
 * File-source read speed per input format against Criteo TSV, on the same rows in the same
 * process: the Criteo sample (../shared/data/criteo-10k) repeated --copies times and written
 * as TSV, TSV gzip-compressed, libFFM, libFFM gzip-compressed, libSVM (field ranges), JSON
 * lines and Arrow IPC (file and stream). Each is read whole through createFileSource into
 * record batches of 4096 rows, --rounds times; the median round is reported as rows/s with the
 * ratio to the TSV. Row counts are checked equal. The 1-min load average is printed beside.
 *
 *   npx tsx bench/ingest-formats.ts [--copies 10] [--rounds 3]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { tableToIPC } from 'apache-arrow';
import { criteoSlots } from '../src/features/schema.ts';
import { createFileSource, type FileFormat } from '../src/ingest/file-source.ts';
import { criteoCells, toArrowTable, toJsonl, toLibffm, toLibsvm } from '../test/helpers/criteo-convert.ts';
import { CRITEO_TSV } from '../test/helpers/shared.ts';

const usage = 'usage: npx tsx bench/ingest-formats.ts [--copies 10] [--rounds 3]';
const { values } = parseArgs({
  options: {
    copies: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const copies = Number(values.copies),
  rounds = Number(values.rounds);

const one = criteoCells(CRITEO_TSV);
const rows = Array.from({ length: copies }, () => one).flat();
const dir = mkdtempSync(join(tmpdir(), 'lionctr-bench-formats-'));
const write = (name: string, data: string | Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};
const tsv = `${rows.map((r) => r.join('\t')).join('\n')}\n`;
const ffm = toLibffm(rows);
const svm = toLibsvm(rows);
const table = toArrowTable(rows);
const cases: { name: string; path: string; format: FileFormat; fieldStarts?: number[] }[] = [
  { name: 'criteo tsv', path: write('c.tsv', tsv), format: 'criteo' },
  { name: 'criteo tsv.gz', path: write('c.tsv.gz', gzipSync(tsv)), format: 'criteo' },
  { name: 'libffm', path: write('c.ffm', ffm), format: 'libffm' },
  { name: 'libffm.gz', path: write('c.ffm.gz', gzipSync(ffm)), format: 'libffm' },
  { name: 'libsvm', path: write('c.svm', svm.text), format: 'libsvm', fieldStarts: svm.fieldStarts },
  { name: 'jsonl', path: write('c.jsonl', toJsonl(rows)), format: 'jsonl' },
  { name: 'arrow file', path: write('c.arrow', tableToIPC(table, 'file')), format: 'arrow' },
  { name: 'arrow stream', path: write('c.arrows', tableToIPC(table, 'stream')), format: 'arrow' },
];

async function readAll(c: (typeof cases)[number]): Promise<{ seconds: number; n: number }> {
  const src = createFileSource({ path: c.path, format: c.format, schema: criteoSlots(), fieldStarts: c.fieldStarts });
  const t0 = performance.now();
  let n = 0;
  for await (const b of src.batches({ batchSize: 4096 })) n += b.numRows;
  return { seconds: (performance.now() - t0) / 1000, n };
}

try {
  console.log(`${rows.length} rows (${copies} x the Criteo sample), median of ${rounds} rounds`);
  let base = 0;
  for (const c of cases) {
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const { seconds, n } = await readAll(c);
      if (n !== rows.length) throw new Error(`${c.name}: read ${n} rows, expected ${rows.length}`);
      times.push(seconds);
    }
    times.sort((a, b) => a - b);
    const rate = rows.length / times[Math.floor(times.length / 2)];
    if (!base) base = rate;
    console.log(
      `${c.name.padEnd(14)} ${Math.round(rate).toString().padStart(9)} rows/s  ` +
        `x${(rate / base).toFixed(2)} of criteo tsv  (load ${loadavg()[0].toFixed(2)})`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
