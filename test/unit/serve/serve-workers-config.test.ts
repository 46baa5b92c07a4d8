/**
 * serve.workers: `auto` by default (config/default.json and the schema), so `lionctr serve` uses
 * every core (issue 11: "use both cores"); integers keep working (0 is auto), anything else is
 * refused naming the key. workerCount turns the value into the processes `serve` runs.
 */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addServeCommand } from '../../../src/cli/commands/serve.ts';
import { loadConfig } from '../../../src/config/schema.ts';
import { serveConfig, workerCount } from '../../../src/serve/config.ts';

const ENV = 'LIONCTR_SERVE_WORKERS';

/** The message loadConfig throws for `sets`, or 'no error'. */
function refusal(sets: string[]): string {
  try {
    loadConfig([], sets);
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
}

describe('serve.workers', () => {
  it('defaults to auto: one worker per core (schema and config/default.json)', () => {
    expect(serveConfig.workers.default).toBe('auto');
    const saved = process.env[ENV];
    delete process.env[ENV];
    try {
      const w = loadConfig().serve.workers;
      expect(w).toBe('auto');
      expect(workerCount(w, 2)).toBe(2);
      expect(workerCount(w, 16)).toBe(16);
      expect(workerCount(w, 1)).toBe(1);
    } finally {
      if (saved !== undefined) process.env[ENV] = saved;
    }
  });

  it('takes auto, 0 (auto) and whole numbers from --set, env and files', () => {
    expect(workerCount(loadConfig([], ['serve.workers=3']).serve.workers, 2)).toBe(3);
    expect(workerCount(loadConfig([], ['serve.workers=1']).serve.workers, 8)).toBe(1);
    expect(workerCount(loadConfig([], ['serve.workers=0']).serve.workers, 8)).toBe(8);
    expect(workerCount(loadConfig([], ['serve.workers=auto']).serve.workers, 4)).toBe(4);
    expect(workerCount(loadConfig([], ['serve.workers="auto"']).serve.workers, 4)).toBe(4);
    expect(workerCount(5, 2)).toBe(5);
    expect(workerCount(0, 2)).toBe(2);
  });

  it('refuses anything else, naming the key and what it takes', () => {
    for (const v of ['many', '-1', '1.5', '2x', 'AUTO1'])
      expect(refusal([`serve.workers=${v}`]), v).toMatch(
        /serve\.workers: must be auto \(one worker per core\) or an integer >= 0 \(0: auto\)/,
      );
    expect(() => workerCount(-2, 2)).toThrow(/must be auto/);
  });

  it('--workers takes auto or an integer >= 0, and says so', () => {
    const program = new Command().exitOverride();
    addServeCommand(program);
    const serve = program.commands.find((c) => c.name() === 'serve');
    serve?.exitOverride().configureOutput({ writeErr: () => {} });
    for (const v of ['many', '1.5', '-1'])
      expect(() => program.parse(['serve', '--workers', v], { from: 'user' }), v).toThrow(
        `--workers must be auto or an integer >= 0, got "${v}".`,
      );
  });
});
