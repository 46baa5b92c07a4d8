/**
 * Delta export against full export of the same model (issue 11 "Delta exports"): write time
 * and size of a delta holding 1% of the rows (plus the dense tower) next to a full export,
 * for tables of 10^6 and 10^7 rows in all (spread over the 26 Criteo slots, dim 16, MLP
 * 256-128 as bench/throughput.ts), fsync included, on the disk of --dir. Also the cost of the
 * changed-row bookkeeping: marking the rows (as TrainStep's rowListeners do) and listing them.
 *
 *   npx tsx bench/delta-export.ts [--rows 1000000,10000000] [--changed 0.01] [--reps 3] [--dir /tmp]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { criteoSlots } from '../src/features/schema.ts';
import { selectBackend } from '../src/model/backend.ts';
import { CtrModel } from '../src/model/ctr-model.ts';
import type { DeltaPredecessor } from '../src/model/delta-format.ts';
import { writeDelta } from '../src/train/delta-writer.ts';
import { writeExport } from '../src/train/export-writer.ts';
import { RowChanges } from '../src/train/row-changes.ts';
import type { TrainStep } from '../src/train/train-step.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000,10000000' },
    changed: { type: 'string', default: '0.01' },
    reps: { type: 'string', default: '3' },
    dir: { type: 'string', default: tmpdir() },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(
    'usage: npx tsx bench/delta-export.ts [--rows 1000000,10000000] [--changed 0.01] [--reps 3] [--dir /tmp]',
  );
  process.exit(0);
}
const sizes = values.rows.split(',').map(Number),
  frac = Number(values.changed),
  reps = Number(values.reps);
await selectBackend('cpu');
const meta = { step: 1, examples: 1, sourceOffsets: {}, watermarkMs: null, metrics: {} };
/** A 32-bit mixer (murmur3 finalizer): distinct inputs give distinct outputs. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

console.log(
  `dim 16 (17 floats a row), MLP 256-128, 26 slots, ${(frac * 100).toFixed(2)}% of rows changed, ` +
    `median of ${reps}, fsync on, dir ${values.dir}`,
);
for (const total of sizes) {
  const model = new CtrModel({ ...criteoSlots(), embeddingDim: 16 }, { hidden: [256, 128], initStd: 0.01, seed: 1 });
  const F = model.tables.length;
  let t = performance.now();
  for (const [f, table] of model.tables.entries()) {
    const n = Math.floor(total / F) + (f < total % F ? 1 : 0);
    for (let i = 0; i < n; i++) table.findOrAdmit(i, mix32(i * 32 + f)); // unique, XXH64-like uniform low bits
  }
  const fillS = (performance.now() - t) / 1000;
  const root = await mkdtemp(join(values.dir, 'lionctr-bench-delta-'));
  try {
    const fullMs: number[] = [];
    let full = { version: '', dir: '', bytes: 0 };
    for (let r = 0; r < reps; r++) {
      t = performance.now();
      full = await writeExport(root, model, meta, 1);
      fullMs.push(performance.now() - t);
    }
    // the changed-row bookkeeping: 20 steps of 4096 examples x 26 slots at random rows, recorded as
    // TrainStep's rowListeners report them, then a scan of the bits; then a fresh set with `frac` of the rows
    const fake = { model, rowListeners: [] as ((r: Int32Array, F: number) => void)[] };
    let changes = new RowChanges(fake as unknown as TrainStep);
    const rowIdx = new Int32Array(4096 * F);
    let s = 12345;
    const rand = (n: number) => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s % n;
    };
    const steps = 20; // timed, after 5 warm-up steps
    let markMs = 0;
    for (let k = -5; k < steps; k++) {
      for (let i = 0; i < rowIdx.length; i++) rowIdx[i] = rand(model.tables[i % F].size);
      t = performance.now();
      fake.rowListeners[0](rowIdx, F);
      if (k >= 0) markMs += performance.now() - t; // 5 warm-up steps
    }
    fake.rowListeners.length = 0;
    changes = new RowChanges(fake as unknown as TrainStep);
    const target = Math.round(total * frac);
    while (changes.tables.reduce((a, c) => a + c.markedCount, 0) < target) {
      const f = rand(F);
      changes.tables[f].mark(rand(model.tables[f].size));
    }
    t = performance.now();
    const rows = changes.list();
    const listMs = performance.now() - t;
    const nRows = rows.reduce((a, x) => a + x.length, 0);
    let prev: DeltaPredecessor = {
      baseVersion: full.version,
      nextSeq: 1,
      version: full.version,
      manifestBytes: await readFile(join(full.dir, 'manifest.json')),
    };
    const deltaMs: number[] = [];
    let bytes = 0;
    for (let r = 0; r < reps; r++) {
      t = performance.now();
      const d = await writeDelta(full.dir, prev, model, rows, meta);
      deltaMs.push(performance.now() - t);
      prev = d.next;
      bytes = d.bytes;
    }
    const fm = median(fullMs),
      dm = median(deltaMs);
    console.log(`\n${total.toLocaleString('en')} rows (filled in ${fillS.toFixed(1)} s)`);
    const range = (xs: number[]) => `(${xs.map((x) => (x / 1000).toFixed(3)).join(', ')} s)`;
    console.log(`  full export   ${(fm / 1000).toFixed(2)} s  ${mb(full.bytes)}  ${range(fullMs)}`);
    console.log(
      `  delta         ${(dm / 1000).toFixed(3)} s  ${mb(bytes)}  (${nRows.toLocaleString('en')} rows of ` +
        `${total.toLocaleString('en')})  ${range(deltaMs)}`,
    );
    console.log(`  delta / full  time ${(dm / fm).toFixed(4)}  size ${(bytes / full.bytes).toFixed(4)}`);
    console.log(
      `  bookkeeping   record ${((markMs * 1000) / steps).toFixed(0)} us per step of 4096 x 26 rows ` +
        `(${steps} steps), list ${listMs.toFixed(1)} ms`,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
    model.dispose();
  }
}
