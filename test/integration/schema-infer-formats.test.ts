/**
 * `lionctr schema infer` -> `train` -> `eval` on the Criteo sample written in each input format a
 * user may have, as the README's "Train on your own click log" runs them: libFFM (gzip), libSVM
 * (one index range per C column: the field starts are inferred), Arrow IPC and the TSV itself
 * gzip-compressed and read as a header-less CSV. Train on rows 1-8000 (2 passes, config/criteo.json's
 * train and optim keys in a second --config), eval on rows 8001-9999; each within 0.01 AUC of the
 * Criteo TSV read positionally, trained the same way in the same run. Also the refusals: libFFM
 * numeric fields after categorical ones, and libSVM indices that are not one-hot ranges.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Int8, Int64, Table, TimestampMillisecond, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { criteoCells, toArrowTable, toLibffm, toLibsvm } from '../helpers/criteo-convert.ts';
import { CRITEO_TSV, haveShared } from '../helpers/shared.ts';

const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LIONCTR_')));
const cli = (...args: string[]) =>
  spawnSync('node', ['bin/lionctr.mjs', ...args], { encoding: 'utf8', env: cleanEnv, timeout: 120_000 });
const dir = mkdtempSync(join(tmpdir(), 'lionctr-infer-formats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** config/criteo.json's train and optimizer keys only (not its source: format, path, limit). */
function optimConfig(): string {
  const c = JSON.parse(readFileSync('config/criteo.json', 'utf8'));
  const p = join(dir, 'optim.json');
  writeFileSync(p, JSON.stringify({ train: c.train, optim: c.optim }));
  return p;
}

/** Train (rows 1-8000, 2 passes) + eval (rows 8001-) of `input` with `config`: the eval figures. */
function holdout(name: string, input: string, config: string[]): { auc: number; examples: number } {
  const ex = join(dir, `ex-${name}`);
  const tr = cli('train', ...config, '--input', input, '--limit', '8000', '--epochs', '2', '--export-dir', ex);
  expect(tr.status, tr.stderr.slice(-2000)).toBe(0);
  const ev = cli('eval', ...config.slice(0, 2), '--model', ex, '--input', input, '--skip', '8000', '--json');
  expect(ev.status, ev.stderr.slice(-2000)).toBe(0);
  return JSON.parse(ev.stdout);
}

/** The inferred config's keys the tests read. */
interface Inferred {
  source: { format: string; csv?: object; libsvm?: { fieldStarts: number[] } };
  schema: { label?: string; numeric: string[]; categorical: string[] };
}

/** `schema infer` of `input` (exit 0), its config written to a file: [path, config]. */
function infer(name: string, input: string, ...args: string[]): [string, Inferred] {
  const inf = cli('schema', 'infer', '--input', input, ...args);
  expect(inf.status, inf.stderr).toBe(0);
  const p = join(dir, `${name}.json`);
  writeFileSync(p, inf.stdout);
  return [p, JSON.parse(inf.stdout)];
}

describe.skipIf(!haveShared(CRITEO_TSV))('schema infer -> train -> eval in each input format', () => {
  const rows = criteoCells(CRITEO_TSV);
  const optim = optimConfig();
  let baseline = 0;
  const I = Array.from({ length: 13 }, (_, j) => `I${j + 1}`);

  it('Criteo TSV, positional (the baseline)', () => {
    const out = holdout('criteo', CRITEO_TSV, ['--config', optim, '--format', 'criteo']);
    console.log(`schema infer formats: criteo ${JSON.stringify(out)}`);
    expect(out.examples).toBe(1999);
    expect(out.auc).toBeGreaterThan(0.74);
    baseline = out.auc;
  });

  it('libFFM, gzip-compressed: fields 0-12 numeric, 13-38 categorical', () => {
    const p = join(dir, 'criteo.ffm.gz');
    writeFileSync(p, gzipSync(toLibffm(rows)));
    const [cfg, c] = infer('ffm', p);
    expect(c.source).toEqual({ format: 'libffm' });
    expect(c.schema.numeric).toEqual(I.map((_, j) => `f${j}`));
    expect(c.schema.categorical).toHaveLength(26);
    const out = holdout('ffm', p, ['--config', cfg, '--config', optim]);
    console.log(`schema infer formats: libffm.gz ${JSON.stringify(out)} (criteo ${baseline})`);
    expect(out.examples).toBe(1999);
    expect(Math.abs(out.auc - baseline)).toBeLessThan(0.01);
  });

  it('libSVM with one index range per C column: the field starts are inferred', () => {
    const p = join(dir, 'criteo.svm');
    const svm = toLibsvm(rows);
    writeFileSync(p, svm.text);
    const [cfg, c] = infer('svm', p);
    expect(c.source.libsvm?.fieldStarts).toEqual(svm.fieldStarts);
    expect(c.schema.numeric).toHaveLength(13);
    const out = holdout('svm', p, ['--config', cfg, '--config', optim]);
    console.log(`schema infer formats: libsvm ${JSON.stringify(out)} (criteo ${baseline})`);
    expect(out.examples).toBe(1999);
    expect(Math.abs(out.auc - baseline)).toBeLessThan(0.01);
  });

  it('Arrow IPC file (and the same as a gzip-compressed stream): columns by name and type', () => {
    const p = join(dir, 'criteo.arrow');
    writeFileSync(p, tableToIPC(toArrowTable(rows), 'file'));
    const [cfg, c] = infer('arrow', p);
    expect(c.source).toEqual({ format: 'arrow' });
    expect(c.schema.label).toBe('label');
    expect([...c.schema.numeric].sort()).toEqual([...I].sort()); // Float64 columns: never categorical
    const gz = join(dir, 'criteo-stream.arrow.gz');
    writeFileSync(gz, gzipSync(tableToIPC(toArrowTable(rows), 'stream')));
    expect(infer('arrow-gz', gz)[1]).toEqual(c);
    const out = holdout('arrow', p, ['--config', cfg, '--config', optim]);
    console.log(`schema infer formats: arrow ${JSON.stringify(out)} (criteo ${baseline})`);
    expect(out.examples).toBe(1999);
    expect(Math.abs(out.auc - baseline)).toBeLessThan(0.01);
  });

  it('the TSV gzip-compressed, read as a header-less CSV: label, columns and delimiter inferred', () => {
    const p = join(dir, 'criteo.tsv.gz');
    writeFileSync(p, gzipSync(readFileSync(CRITEO_TSV)));
    const [cfg, c] = infer('csv', p);
    expect(c.source.csv).toMatchObject({ header: false, delimiter: 'tab' });
    expect(c.schema.label).toBe('c1');
    const out = holdout('csv', p, ['--config', cfg, '--config', optim]);
    console.log(`schema infer formats: csv.gz ${JSON.stringify(out)} (criteo ${baseline})`);
    expect(out.examples).toBe(1999);
    expect(Math.abs(out.auc - baseline)).toBeLessThan(0.01);
  });
});

describe('schema infer: Arrow time and label by the names the Arrow reader takes', () => {
  const N = 200;
  const arrow = (name: string, label: string, ts: unknown) => {
    const p = join(dir, `${name}.arrow`);
    const cols = {
      [label]: vectorFromArray(
        Array.from({ length: N }, (_, i) => i % 2),
        new Int8(),
      ),
      ts,
      site: vectorFromArray(
        Array.from({ length: N }, (_, i) => `s${i % 9}`),
        new Utf8(),
      ),
    };
    writeFileSync(p, tableToIPC(new Table(cols as never), 'file'));
    return p;
  };
  const ms = Array.from({ length: N }, (_, i) => 1_700_000_000_000 + i * 1000);

  it('an Arrow timestamp ts is the event time, not a slot', () => {
    const [, c] = infer('arrow-ts', arrow('ts', 'label', vectorFromArray(ms, new TimestampMillisecond())));
    expect(c.schema).toEqual({ label: 'label', numeric: [], categorical: ['site'], ignore: [] });
  });

  it('ts in seconds and a label not named label are refused (the reader would reject every row)', () => {
    const secs = vectorFromArray(
      ms.map((x) => BigInt(x / 1000)),
      new Int64(),
    );
    const r = cli('schema', 'infer', '--input', arrow('ts-s', 'label', secs));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/"ts" reads as s.*ms since the epoch/);
    const l = cli('schema', 'infer', '--input', arrow('click', 'click', secs));
    expect(l.status).toBe(2);
    expect(l.stderr).toMatch(/label in the column "label".*"click"/);
  });
});

describe('schema infer refuses sparse files it cannot map to slots', () => {
  it('libFFM: a numeric field after a categorical one', () => {
    const p = join(dir, 'interleaved.ffm');
    const lines = Array.from({ length: 50 }, (_, i) => `${i % 2} 0:${i % 7}:1 1:1:${i * 0.5}`);
    writeFileSync(p, `${lines.join('\n')}\n`);
    const r = cli('schema', 'infer', '--input', p);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/numeric field\(s\) 1 come after categorical field 0/);
  });

  it('libSVM: indices that are not one-hot ranges ask for --field-starts, which is then used', () => {
    const p = join(dir, 'bag.svm');
    // every line holds two indices of one bag of words: 2000 singleton fields by the grouping rule
    const lines = Array.from({ length: 2000 }, (_, i) => `${i % 2} ${i + 1}:1 ${((i + 1) % 2000) + 1}:1`);
    writeFileSync(p, `${lines.join('\n')}\n`);
    const r = cli('schema', 'infer', '--input', p);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/give --field-starts/);
    const [, c] = infer('bag', p, '--field-starts', '1,1001');
    expect(c.source.libsvm?.fieldStarts).toEqual([1, 1001]);
    expect(c.schema.categorical).toEqual(['f0', 'f1']);
  });
});
