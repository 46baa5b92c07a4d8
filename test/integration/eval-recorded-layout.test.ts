/**
 * `lionctr eval` reads a file laid out as the trainer's input was (issue 14): the export records
 * the input layout (featurization.input: label, time column and format, weight column, format,
 * CSV header / columns / delimiter), so `eval --model X --input F` without the train's --config
 * evaluates a header-less, ';'-separated CSV with a renamed label, a time column in seconds and a
 * weight column: the same figures, to the last digit, as eval with the train's config. Before the
 * record, eval read it as Criteo TSV (the default) and failed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../helpers/prng.ts';

const dir = mkdtempSync(join(tmpdir(), 'lionctr-eval-layout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI; its stdout, or an error carrying its stderr's last lines. */
function cli(...args: string[]): string {
  try {
    return execFileSync('node', ['bin/lionctr.mjs', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LIONCTR_BACKEND: 'wasm' },
    });
  } catch (e) {
    const err = String((e as { stderr?: string }).stderr ?? '')
      .split('\n')
      .slice(-4)
      .join('\n');
    throw new Error(`lionctr ${args.join(' ')}: ${err}`);
  }
}

/** n rows `clk;when;a;b;x;w` (no header): clicks likelier for a in {a0, a1}; weights 1 or 2. */
function csv(n: number, seed: number): string {
  const u = mulberry32(seed);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = `a${Math.floor(u() * 8)}`,
      b = `b${Math.floor(u() * 5)}`,
      x = (u() * 10).toFixed(2);
    const p = a === 'a0' || a === 'a1' ? 0.4 : 0.05;
    lines.push(`${u() < p ? 1 : 0};${1_700_000_000 + i};${a};${b};${x};${u() < 0.5 ? 1 : 2}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('eval without the train config: the recorded input layout', () => {
  it('a header-less CSV evaluates as with the train config', () => {
    const train = join(dir, 'train.csv'),
      test = join(dir, 'test.csv'),
      config = join(dir, 'mine.json'),
      ex = join(dir, 'ex');
    writeFileSync(train, csv(4000, 1));
    writeFileSync(test, csv(1500, 2));
    writeFileSync(
      config,
      JSON.stringify({
        schema: {
          numeric: ['x'],
          categorical: ['a', 'b'],
          label: 'clk',
          time: { column: 'when', format: 's' },
          weight: 'w',
          embeddingDim: 4,
        },
        source: {
          format: 'csv',
          epochs: 4,
          csv: { header: false, columns: ['clk', 'when', 'a', 'b', 'x', 'w'], delimiter: ';' },
        },
        train: { batchSize: 128 },
        model: { hidden: [8] },
        export: { intervalSeconds: 0 },
      }),
    );
    cli('train', '--config', config, '--input', train, '--export-dir', ex);
    const version = readFileSync(join(ex, 'LATEST'), 'utf8').trim();
    const manifest = JSON.parse(readFileSync(join(ex, version, 'manifest.json'), 'utf8'));
    expect(manifest.featurization.input).toMatchObject({
      format: 'csv',
      label: 'clk',
      time: { column: 'when', format: 's' },
      weight: 'w',
      csv: { header: false, columns: ['clk', 'when', 'a', 'b', 'x', 'w'], delimiter: ';' },
    });
    const bare = JSON.parse(cli('eval', '--model', ex, '--input', test, '--json'));
    const withConfig = JSON.parse(cli('eval', '--config', config, '--model', ex, '--input', test, '--json'));
    console.log(`eval without the train config: ${JSON.stringify(bare)}; with it: ${JSON.stringify(withConfig)}`);
    expect(bare).toEqual(withConfig);
    expect(bare.examples).toBe(1500);
    expect(bare.auc).toBeGreaterThan(0.7);
    // keys the eval config sets win: the file weighted by another column (x; w ignored) gives other figures
    const byX = JSON.parse(
      cli('eval', '--model', ex, '--input', test, '--json', '--set', 'schema.weight=x', '--set', 'schema.ignore=["w"]'),
    );
    expect(byX.examples).toBe(1500);
    expect(byX.logloss).not.toBe(bare.logloss);
  }, 300_000);
});
