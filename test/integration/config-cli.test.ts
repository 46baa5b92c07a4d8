import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_FILE, loadConfig, schemaDefaults } from '../../src/config/schema.ts';

const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LIONCTR_')));
const cli = (...args: string[]) => spawnSync('node', ['bin/lionctr.mjs', ...args], { encoding: 'utf8', env: cleanEnv });

describe('configuration', () => {
  it('config/default.json holds exactly the schema defaults', () => {
    expect(JSON.parse(readFileSync(DEFAULT_CONFIG_FILE, 'utf8'))).toEqual(schemaDefaults());
  });

  it('applies files, env and --set in that order', () => {
    process.env.LIONCTR_TRAIN_BATCH_SIZE = '512';
    try {
      expect(loadConfig().train.batchSize).toBe(512);
      expect(loadConfig([], ['train.batchSize=64']).train.batchSize).toBe(64);
      expect(loadConfig([], ['model.hidden=[32,16]']).model.hidden).toEqual([32, 16]);
    } finally {
      delete process.env.LIONCTR_TRAIN_BATCH_SIZE;
    }
  });

  it('names the wrong key', () => {
    expect(() => loadConfig([], ['train.batchSize=0'])).toThrow(/train\.batchSize: must be an integer >= 1/);
    expect(() => loadConfig([], ['optim.embedding.beta2=1.5'])).toThrow(/optim\.embedding\.beta2/);
    expect(() => loadConfig([], ['model.hidden=[0]'])).toThrow(/model\.hidden/);
    expect(() => loadConfig([], ['trian.batchSize=5'])).toThrow(/unknown config key "trian\.batchSize"/);
    expect(() => loadConfig(['/nonexistent/x.json'])).toThrow(/\/nonexistent\/x\.json/);
  });

  it('takes object-valued keys (optim.tables, schema.dims) from a config file, and checks them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lionctr-cfg-'));
    try {
      const file = (name: string, o: unknown) => {
        const f = join(dir, name);
        writeFileSync(f, JSON.stringify(o));
        return f;
      };
      const cfg = loadConfig([
        file('ok.json', {
          optim: { tables: { C3: { lr: 0.01, mode: 'exact' } }, sparseKernel: 'js' },
          schema: { dims: { C3: 8 } },
        }),
      ]);
      expect(cfg.optim.tables).toEqual({ C3: { lr: 0.01, mode: 'exact' } });
      expect(cfg.optim.sparseKernel).toBe('js');
      expect(cfg.schema.dims).toEqual({ C3: 8 });
      expect(cfg.optim.embedding.lr).toBe(loadConfig().optim.embedding.lr); // the rest of optim is kept
      expect(() => loadConfig([file('bad.json', { optim: { tables: { C3: { lr: -1 } } } })])).toThrow(
        /optim\.tables: C3\.lr must be a number >= 0/,
      );
      expect(() => loadConfig([file('str.json', { optim: { tables: 'x' } })])).toThrow(
        /optim\.tables: must be an object/,
      );
      expect(() => loadConfig([file('dims.json', { schema: { dims: { C3: '4' } } })])).toThrow(
        /schema\.dims: C3: must be an integer in 1\.\.1024, got "4"/,
      );
      expect(() => loadConfig([], ['schema.dims=x'])).toThrow(/schema\.dims: must be an object/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('lionctr command line', () => {
  it('every command has --help', () => {
    for (const c of ['run', 'train', 'serve', 'eval']) {
      const r = cli(c, '--help');
      expect(r.status, c).toBe(0);
      expect(r.stdout).toMatch(/--config/);
    }
  });

  it('a bad config stops start-up with exit 2 and the key named', () => {
    const r = cli('train', '--max-examples', '10', '--set', 'train.batchSize=-1');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/LIONCTR_BAD_CONFIG.*train\.batchSize/);
  });

  it('a missing input file is a clear error, not a stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lionctr-none-'));
    const r = cli('train', '--input', '/nonexistent/clicks.tsv', '--export-dir', join(dir, 'exports'));
    rmSync(dir, { recursive: true, force: true });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/\/nonexistent\/clicks\.tsv/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('per-table optimizer settings', () => {
  it('override the embedding group of one slot, and reject unknown slots and keys', async () => {
    const { createTrainer } = await import('../../src/cli/train-session.ts');
    const pino = (await import('pino')).default;
    const cfg = loadConfig(
      [],
      ['optim.tables={"C3":{"lr":0.05,"mode":"exact"}}', 'model.hidden=[4]', 'schema.embeddingDim=2'],
    );
    const trainer = await createTrainer(cfg, pino({ level: 'silent' }), { exportDir: null });
    const groups = trainer.opts.step.sparseGroups;
    expect(groups[2]).toMatchObject({ embedding: { lr: 0.05 }, mode: 'exact' });
    expect(groups[1]).toMatchObject({ embedding: { lr: cfg.optim.embedding.lr }, mode: 'lazy' });
    const bad = loadConfig([], ['optim.tables={"C99":{"lr":0.05}}']);
    await expect(createTrainer(bad, pino({ level: 'silent' }), { exportDir: null })).rejects.toThrow(
      /optim\.tables\.C99/,
    );
    expect(() => loadConfig([], ['optim.tables={"C3":{"momentum":1}}'])).toThrow(/C3\.momentum is not a setting/);
    trainer.opts.model.dispose();
  });
});
