/**
 * `lionctr schema infer` -> `train --config` -> `eval --config` on your own click log, as the README's
 * "Train on your own click log" section runs them, on real files in a temp dir: an Avazu-like CSV
 * (header, `click`, `hour` YYMMDDHH, an id, 21 categorical and 2 numeric columns) and the same log
 * as a header-less TSV; and train/eval refusing a file whose columns do not fit the config (exit 2).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { avazuLikeLines } from '../helpers/click-log.ts';

const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LIONCTR_')));
const cli = (...args: string[]) =>
  spawnSync('node', ['bin/lionctr.mjs', ...args], { encoding: 'utf8', env: cleanEnv, timeout: 240_000 });
const dir = mkdtempSync(join(tmpdir(), 'lionctr-schema-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ROWS = 4000,
  TRAIN = 3000;
const FAST = ['--set', 'train.batchSize=256', '--set', 'model.hidden=[32]', '--set', 'schema.embeddingDim=8'];

/** infer -> train (rows 1..TRAIN, 2 passes) -> eval (the rest): the eval figures. */
function threeCommands(input: string, name: string): { auc: number; examples: number } {
  const inf = cli('schema', 'infer', '--input', input);
  expect(inf.status, inf.stderr).toBe(0);
  const config = join(dir, `${name}.json`);
  writeFileSync(config, inf.stdout);
  const exp = join(dir, `exports-${name}`);
  const tr = cli(
    'train',
    '--config',
    config,
    '--input',
    input,
    '--limit',
    `${TRAIN}`,
    '--epochs',
    '2',
    ...FAST,
    '--export-dir',
    exp,
  );
  expect(tr.status, tr.stderr.slice(-2000)).toBe(0);
  expect(JSON.parse(tr.stdout).examples).toBe(2 * TRAIN);
  const ev = cli('eval', '--config', config, '--model', exp, '--input', input, '--skip', `${TRAIN}`, '--json');
  expect(ev.status, ev.stderr).toBe(0);
  return JSON.parse(ev.stdout);
}

describe('train on your own click log in three commands', () => {
  it('an Avazu-like CSV: the inferred config trains and evaluates', () => {
    const input = join(dir, 'clicks.csv');
    writeFileSync(input, `${avazuLikeLines(ROWS).join('\n')}\n`);
    const f = threeCommands(input, 'avazu');
    const cfg = JSON.parse(readFileSync(join(dir, 'avazu.json'), 'utf8'));
    expect(cfg.schema).toMatchObject({ label: 'click', time: { column: 'hour', format: 'YYMMDDHH' }, ignore: ['id'] });
    expect(f.examples).toBe(ROWS - TRAIN);
    expect(f.auc).toBeGreaterThan(0.62); // the planted model: ~0.70 at 4000 rows
  });

  it('the same log as a header-less TSV: names, delimiter and label go into the config', () => {
    const input = join(dir, 'clicks.tsv');
    const lines = avazuLikeLines(ROWS, 7, { header: false, delimiter: '\t' });
    writeFileSync(input, `${lines.map((l) => l.split('\t').slice(1).join('\t')).join('\n')}\n`); // no id
    const f = threeCommands(input, 'headerless');
    const cfg = JSON.parse(readFileSync(join(dir, 'headerless.json'), 'utf8'));
    expect(cfg.source.csv).toMatchObject({ header: false, delimiter: 'tab' });
    expect(cfg.source.csv.columns).toHaveLength(25);
    expect(cfg.schema).toMatchObject({ label: 'c1', time: { column: 'c2', format: 'YYMMDDHH' } });
    expect(f.auc).toBeGreaterThan(0.62);
  });
});

describe('train and eval refuse a CSV whose columns do not fit the config', () => {
  it('unconfigured columns and missing slots are named, exit 2, nothing created', () => {
    const input = join(dir, 'labelled.csv');
    const lines = avazuLikeLines(300);
    writeFileSync(input, `${[lines[0].replace('click', 'label'), ...lines.slice(1)].join('\n')}\n`);
    const exp = join(dir, 'exports-default');
    const r = cli('train', '--input', input, '--format', 'csv', '--export-dir', exp);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/lacks 30 slot\(s\) of the schema: "I1", "I2"/);
    expect(r.stderr).toMatch(/carries 16 column\(s\) the config does not name: "id", "hour", "banner_pos"/);
    expect(spawnSync('ls', [exp]).status).not.toBe(0);
  });

  it('eval on a file holding none of the model slots is refused (it printed auc 0.5, exit 0)', () => {
    const other = join(dir, 'other.csv');
    writeFileSync(other, 'label,a,b\n1,x,y\n0,x,z\n');
    const r = cli(
      'eval',
      '--config',
      join(dir, 'avazu.json'),
      '--model',
      join(dir, 'exports-avazu'),
      '--input',
      other,
      '--json',
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no label column "click"/);
    writeFileSync(other, 'click,a,b\n1,x,y\n0,x,z\n');
    const r2 = cli(
      'eval',
      '--config',
      join(dir, 'avazu.json'),
      '--model',
      join(dir, 'exports-avazu'),
      '--input',
      other,
    );
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/lacks 23 slot\(s\).*carries 2 column\(s\) the config does not name: "a", "b"/);
    expect(r2.stdout).toBe('');
  });

  it('schema infer has --help; a file without a label column is exit 2', () => {
    const h = cli('schema', 'infer', '--help');
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/--input <file>/);
    const f = join(dir, 'nolabel.csv');
    writeFileSync(f, 'a,b\nx,2\ny,3\n');
    const r = cli('schema', 'infer', '--input', f);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no label column .* give --label NAME/);
  });
});
