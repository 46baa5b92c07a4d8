/**
 * The speed suite's figures (bench/suite.ts, `npm run bench`) on made-up runs: `--from-json`
 * reprints a saved run without training anything, so the summary (medians, ranges, per-round
 * ratios to the peer), the table, the targets of issue 13 and the JSON written are checked here
 * without torch or a backend. The suite runs as a process (tests do not import bench/).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'suite-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs bench/suite.ts with `args`; its exit status and output. */
function suite(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/suite.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

const split = { source: 1, featurize: 1, lookup: 1, forward: 2, backward: 3, dense: 1, sparse: 1 };
const run = (runner: string, round: number, eps: number, mode = 'raw') => ({
  mode,
  batch: 4096,
  rows: 100000,
  runner,
  round,
  figures: { examplesPerSecond: eps, steps: 10, split, coresBusy: 1.5, peakRssMb: 100 * round },
});
// per round, tensorflow / torch: 2, 1.5, 2.5 (median 2); wasm / torch: 0.4, 0.45, 0.4 (median 0.4)
const runs = [
  run('tensorflow', 1, 20000),
  run('wasm', 1, 4000),
  run('torch', 1, 10000),
  run('tensorflow', 2, 30000),
  run('wasm', 2, 9000),
  run('torch', 2, 20000),
  run('tensorflow', 3, 25000),
  run('wasm', 3, 4000),
  run('torch', 3, 10000),
  { mode: 'raw', batch: 4096, rows: 100000, runner: 'wasm', round: 4, error: 'wasm exited: out of memory' },
];

describe('bench suite report (--from-json)', () => {
  it('prints medians, per-round ratios with their range, the split and the targets, and writes them as JSON', () => {
    const saved = join(dir, 'saved.json'),
      out = join(dir, 'out.json');
    const auc = { tensorflow: { auc: 0.7488 }, torch: { auc: 0.7497 } };
    const loadAverage = { start: '0.50 0.40 0.30', end: '0.90 0.50 0.30' };
    writeFileSync(saved, JSON.stringify({ options: { threads: 2 }, host: { cpus: 2 }, loadAverage, auc, runs }));
    const r = suite(['--from-json', saved, '--json', out]);
    expect(r.status, r.out).toBe(0);
    const line = (runner: string) => r.out.split('\n').find((l) => l.startsWith('raw') && l.includes(` ${runner} `));
    expect(line('tensorflow')).toMatch(
      /25\.0k \(20\.0k-30\.0k\)\s+2\.00x \(1\.50-2\.50\)\s+10\s+10%\s+10%\s+10%\s+20%\s+30%/,
    );
    expect(line('wasm')).toMatch(/0\.40x \(0\.40-0\.45\).* 1 failed: wasm exited: out of memory/);
    expect(line('torch')).toMatch(/10\.0k \(10\.0k-20\.0k\)\s+10 /);
    expect(r.out).toContain('target tensorflow >= 1.0x torch, raw file, batch 4096, torch table 1e5, 2 threads: 2.00x');
    expect(r.out).toMatch(/target wasm >= 0\.5x torch.*0\.40x \(0\.40-0\.45\) NOT met$/m);
    expect(r.out).not.toContain('WARNING');
    expect(r.out).toContain('holdout AUC torch: 0.7497');
    expect(r.out).toContain('load average (1, 5, 15 min) at start 0.50 0.40 0.30');
    const j = JSON.parse(readFileSync(out, 'utf8'));
    const tfRow = j.summary.find((s: { runner: string }) => s.runner === 'tensorflow');
    expect(tfRow.vsPeer).toEqual({ median: 2, min: 1.5, max: 2.5 });
    expect(tfRow.examplesPerSecond).toEqual({ median: 25000, min: 20000, max: 30000 });
    expect(tfRow.peakRssMb).toBe(300);
    expect(j.summary.find((s: { runner: string }) => s.runner === 'torch').vsPeer).toBeUndefined();
    expect(j.runs).toHaveLength(runs.length);
    expect(j.targets).toHaveLength(2);
    expect(j.busy).toBe(false);
  });

  it('says when the machine was busy (1-minute load above half the CPUs): targets not conclusive', () => {
    const saved = join(dir, 'busy.json'),
      out = join(dir, 'busy-out.json');
    const loadAverage = { start: '0.50 0.40 0.30', end: '9.18 8.71 8.46' };
    writeFileSync(saved, JSON.stringify({ options: { threads: 2 }, host: { cpus: 2 }, loadAverage, runs }));
    const r = suite(['--from-json', saved, '--json', out]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('2.00x (1.50-2.50) met (machine busy: not conclusive)');
    expect(r.out).toContain('WARNING: a load average above 1 on 2 CPUs');
    expect(JSON.parse(readFileSync(out, 'utf8')).busy).toBe(true);
  });

  it('refuses a bad flag with exit 2, naming it', () => {
    const r = suite(['--rounds', 'x']);
    expect(r.status).toBe(2);
    expect(r.out).toContain('--rounds takes whole numbers >= 1 (got "x")');
  });

  it('refuses an --ingest-thread other than on and off', () => {
    const r = suite(['--ingest-thread', 'on,maybe']);
    expect(r.status).toBe(2);
    expect(r.out).toContain('--ingest-thread takes on and off (got "maybe")');
  });

  it('keeps the columns aligned for a longer runner name (the "<backend> no-thread" rows)', () => {
    const json = join(dir, 'nothread.json');
    const rows = [run('tensorflow', 1, 20000), run('tensorflow no-thread', 1, 30000), run('torch', 1, 10000)];
    writeFileSync(json, JSON.stringify({ runs: rows, loadAverage: { start: '0.1 0.1 0.1', end: '0.1 0.1 0.1' } }));
    const r = suite(['--from-json', json, '--json', join(dir, 'nothread-out.json')]);
    expect(r.status).toBe(0);
    const lines = r.out.split('\n').filter((l) => l.startsWith('mode') || l.startsWith('raw'));
    const at = (l: string) => l.indexOf('k (');
    expect(lines.length).toBe(4);
    expect(new Set(lines.slice(1).map(at)).size).toBe(1);
    expect(lines[0].indexOf('examples/s')).toBeLessThan(at(lines[1]));
    expect(r.out).toContain('tensorflow no-thread');
  });
});
