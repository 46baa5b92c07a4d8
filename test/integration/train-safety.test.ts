/**
 * Issue 14, "safer defaults for train" and the command line's rules, on the real `lionctr`
 * process: train never falls back to the demo's exports root, a missing input creates
 * nothing, the start-up line shows a config file's limit and epochs, a run stopped by a
 * signal before its end exits non-zero saying how far it got, a re-run that trains nothing
 * says so; usage errors exit 2 like config errors; --help states the precedence.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useFixture } from '../helpers/fixture.ts';
import { syntheticCriteoLines, writeLines } from '../helpers/kafka-data.ts';
import { cleanEnv, spawnLionctr } from '../helpers/kafka-process.ts';

const fx = useFixture();
const BIN = resolve(import.meta.dirname, '../../bin/lionctr.mjs');
/** A small, quick model. */
const SMALL = ['model.hidden=[8]', 'schema.embeddingDim=2', 'train.batchSize=64', 'export.gate.enabled=false'];
const small = SMALL.flatMap((s) => ['--set', s]);
const cli = (cwd: string, ...args: string[]) =>
  spawnSync('node', [BIN, ...args], { cwd, encoding: 'utf8', env: cleanEnv(), timeout: 90_000 });

describe('lionctr train: safer defaults', () => {
  it('refuses to run without its own export dir, and creates nothing', () => {
    const cwd = fx.tempDir('noexport');
    const r = cli(cwd, 'train', '--max-examples', '64', ...small);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/LIONCTR_BAD_CONFIG.*--export-dir/);
    expect(readdirSync(cwd)).toEqual([]); // no `exports` shared with the demo
  });

  it('a missing input creates no export or checkpoint dir', () => {
    const cwd = fx.tempDir('noinput');
    const r = cli(cwd, 'train', '--input', join(cwd, 'absent.tsv'), '--export-dir', 'out', ...small);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/LIONCTR_BAD_INPUT.*absent\.tsv/);
    expect(existsSync(join(cwd, 'out'))).toBe(false);
  });

  it("shows a config file's limit and epochs in the start-up line; a re-run that trains nothing says so", () => {
    const cwd = fx.tempDir('startline');
    const input = writeLines(join(cwd, 'clicks.tsv'), syntheticCriteoLines(300));
    writeFileSync(join(cwd, 'cfg.json'), JSON.stringify({ source: { limit: 128, epochs: 2 } }));
    const args = ['train', '--config', 'cfg.json', '--input', input, '--export-dir', 'out', ...small];
    const first = cli(cwd, ...args);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/limit 128 \[cfg\.json\], epochs 2 \[cfg\.json\]/);
    expect(JSON.parse(first.stdout).examples_this_run).toBe(256);
    const again = cli(cwd, ...args);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).examples_this_run).toBe(0);
    expect(again.stderr).toMatch(/WARNING: this run trained 0 examples.*checkpoint/);
  });

  for (const [sig, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`stopped by ${sig} before its end, exits ${code} and says how far it got`, async () => {
      const cwd = fx.tempDir('signal');
      const args = ['train', '--max-examples', '100000000', '--export-dir', 'out', ...small];
      const { c, exited, stderr } = spawnLionctr(args, fx, cwd);
      const t0 = Date.now();
      while (!/exported version/.test(stderr()) && Date.now() - t0 < 60_000)
        await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 500));
      c.kill(sig);
      const { code: exit, err, out } = await exited;
      expect(exit, err).toBe(code);
      expect(err).toMatch(new RegExp(`interrupted by ${sig} after [1-9]\\d* examples .*the same command resumes`));
      expect(JSON.parse(out).interrupted).toBe(sig);
    });
  }
});

describe('lionctr command line rules', () => {
  it('usage errors exit 2, like config errors', () => {
    const cwd = fx.tempDir('usage');
    expect(cli(cwd, 'train', '--no-such-flag').status).toBe(2);
    expect(cli(cwd, 'train', '--limit', 'x').status).toBe(2);
    expect(cli(cwd, 'no-such-command').status).toBe(2);
    expect(cli(cwd, 'train', '--help').status).toBe(0);
  });

  it('--help states the precedence and the env var rule', () => {
    const r = cli(fx.tempDir('help'), 'serve', '--help');
    expect(r.stdout).toMatch(/--config files < env vars < --set <\s+this command's flags/);
    expect(r.stdout).toMatch(/LIONCTR_TRAIN_BATCH_SIZE/);
  });

  it("a command's flags beat --set, and a refused flag value names the flag", async () => {
    const { configFrom } = await import('../../src/cli/common.ts');
    expect(configFrom({ config: [], set: ['serve.port=1000'] }, ['serve.port=2000']).serve.port).toBe(2000);
    const r = cli(fx.tempDir('flag'), 'serve', '--port', '8081abc');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/serve\.port: must be a number, got "8081abc" \(at --port\)/);
  });
});
