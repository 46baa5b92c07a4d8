/**
 * Each input format end to end, as a user runs it: the Criteo sample converted into libFFM
 * (gzip-compressed), libSVM (-1/+1 labels, one index range per C column, mapped with
 * source.libsvm.fieldStarts) and Arrow IPC, then `lionctr train` on rows 1-8000 (config/criteo.json)
 * and `lionctr eval` on rows 8001-9999. Each must reach the holdout AUC of the same rows read as
 * Criteo TSV (trained the same way, in the same run) within 0.005: the formats carry the same
 * information, only the id strings (and so the hash collisions) differ.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tableToIPC } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { criteoCells, toArrowTable, toLibffm, toLibsvm } from '../helpers/criteo-convert.ts';
import { CRITEO_TSV, haveShared } from '../helpers/shared.ts';

describe.skipIf(!haveShared(CRITEO_TSV))('input formats: train + eval on the Criteo sample in each', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lionctr-formats-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (...args: string[]) =>
    execFileSync('node', ['bin/lionctr.mjs', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  /** Holdout metrics of train (rows 1-8000, 2 passes) + eval (rows 8001-) on `input` in `format`. */
  const holdout = (name: string, input: string, format: string, extra: string[] = []) => {
    const ex = join(dir, `ex-${name}`);
    cli('train', '--config', 'config/criteo.json', ...extra, '--input', input, '--format', format, '--export-dir', ex);
    return JSON.parse(
      cli('eval', '--model', ex, ...extra, '--input', input, '--format', format, '--skip', '8000', '--json'),
    );
  };
  const rows = criteoCells(CRITEO_TSV);
  let baseline = 0;

  it('Criteo TSV (the baseline)', () => {
    const out = holdout('criteo', CRITEO_TSV, 'criteo');
    console.log(`input formats: criteo ${JSON.stringify(out)}`);
    expect(out.examples).toBe(1999);
    expect(out.auc).toBeGreaterThanOrEqual(0.74);
    baseline = out.auc;
  });

  it('libFFM, gzip-compressed', () => {
    const p = join(dir, 'criteo.ffm.gz');
    writeFileSync(p, gzipSync(toLibffm(rows)));
    const out = holdout('ffm', p, 'libffm');
    console.log(`input formats: libffm.gz ${JSON.stringify(out)} (criteo ${baseline})`);
    expect(out.examples).toBe(1999);
    expect(Math.abs(out.auc - baseline)).toBeLessThan(0.005);
  });

  it('libSVM with field ranges', () => {
    const p = join(dir, 'criteo.svm');
    const svm = toLibsvm(rows);
    writeFileSync(p, svm.text);
    const cfg = join(dir, 'svm.json');
    writeFileSync(cfg, JSON.stringify({ source: { libsvm: { fieldStarts: svm.fieldStarts } } }));
    const out = holdout('svm', p, 'libsvm', ['--config', cfg]);
    console.log(`input formats: libsvm ${JSON.stringify(out)} (criteo ${baseline})`);
    expect(out.examples).toBe(1999);
    expect(Math.abs(out.auc - baseline)).toBeLessThan(0.005);
  });

  it('Arrow IPC file', () => {
    const p = join(dir, 'criteo.arrow');
    writeFileSync(p, tableToIPC(toArrowTable(rows), 'file'));
    const out = holdout('arrow', p, 'arrow');
    console.log(`input formats: arrow ${JSON.stringify(out)} (criteo ${baseline})`);
    expect(out.examples).toBe(1999);
    expect(Math.abs(out.auc - baseline)).toBeLessThan(0.005);
  });
});
