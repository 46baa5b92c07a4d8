/**
 * The config loader (src/config/loader.ts) on a small schema: the precedence defaults <
 * defaults file < config files in order < env vars < --set, and LIONCTR_BAD_CONFIG errors
 * naming the key or file. Also the layout rule: section schemas sit beside their owners and
 * do not import src/config/schema.ts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { oneOf } from '../../../src/config/formats.ts';
import { loadConfigOf } from '../../../src/config/loader.ts';

const ENV = 'LIONCTR_TRAIN_BATCH_SIZE'; // named from the key's path
const schema = {
  train: {
    batchSize: { doc: 'b', format: 'positive-int', default: 1 },
    hidden: { doc: 'h', format: 'int-list', default: [4] },
  },
  kind: { doc: 'k', ...oneOf(['x', 'y'], 'x') },
  dims: { doc: 'd', format: 'slot-dims', default: {} as Record<string, number> },
  name: { doc: 'n', format: String, default: 'none' },
};

const dir = mkdtempSync(join(tmpdir(), 'lionctr-unit-loader-'));
let n = 0;
/** A JSON config file holding `o`. */
const file = (o: unknown) => {
  const f = join(dir, `c${n++}.json`);
  writeFileSync(f, typeof o === 'string' ? o : JSON.stringify(o));
  return f;
};
const noDefaults = join(dir, 'absent.json');
const load = (files: string[] = [], sets: string[] = [], defaults = noDefaults) =>
  loadConfigOf(schema, files, sets, defaults);

afterEach(() => {
  delete process.env[ENV];
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadConfigOf', () => {
  it('applies defaults < defaults file < files in order < env < --set', () => {
    expect(load().train).toEqual({ batchSize: 1, hidden: [4] });
    const defaults = file({ train: { batchSize: 2 }, name: 'from-defaults' });
    expect(load([], [], defaults)).toMatchObject({ train: { batchSize: 2 }, name: 'from-defaults' });
    const a = file({ train: { batchSize: 3 } }),
      b = file({ train: { batchSize: 4 }, kind: 'y' });
    expect(load([a, b], [], defaults)).toMatchObject({
      train: { batchSize: 4, hidden: [4] },
      kind: 'y',
      name: 'from-defaults',
    });
    expect(load([b, a], [], defaults).train.batchSize).toBe(3);
    process.env[ENV] = '5';
    expect(load([a, b], [], defaults).train.batchSize).toBe(5);
    expect(load([a, b], ['train.batchSize=6', 'train.hidden=[8,2]', 'name=plain text'], defaults)).toMatchObject({
      train: { batchSize: 6, hidden: [8, 2] },
      name: 'plain text',
    });
  });

  it('takes object values at leaves (dims) from a file whole', () => {
    expect(load([file({ dims: { C1: 8 } })]).dims).toEqual({ C1: 8 });
    expect(load([file({ dims: { C1: 8 } }), file({ dims: { C2: 4 } })]).dims).toEqual({ C2: 4 });
  });

  it('throws LIONCTR_BAD_CONFIG naming the key or the file', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as Error & { code: string };
      }
      throw new Error('no error');
    };
    expect(err(() => load([], ['train.batchSize=0']))).toMatchObject({
      code: 'LIONCTR_BAD_CONFIG',
      message: expect.stringMatching(/^invalid configuration: train\.batchSize: must be an integer >= 1/),
    });
    expect(err(() => load([], ['trian.batchSize=5'])).message).toBe(
      'unknown config key "trian.batchSize" (at trian.batchSize)',
    );
    expect(err(() => load([], ['batch'])).message).toBe('--set expects key=value, got "batch" (at --set)');
    expect(err(() => load([], ['kind="z"'])).message).toMatch(/kind: must be one of the possible values/);
    const broken = file('{ not json');
    expect(err(() => load([broken]))).toMatchObject({
      code: 'LIONCTR_BAD_CONFIG',
      message: expect.stringContaining(`(at ${broken})`),
    });
    const dims0 = file({ dims: { C1: 0 } });
    expect(err(() => load([dims0])).message).toMatch(/dims: C1: must be an integer in 1\.\.1024, got 0/);
    expect(err(() => load([file({ extra: 1 })])).code).toBe('LIONCTR_BAD_CONFIG'); // strict: unknown keys are errors
  });
});

describe('config layout', () => {
  const src = (p: string) => readFileSync(new URL(`../../../src/${p}`, import.meta.url), 'utf8');
  const sections = [
    'ingest/config.ts',
    'ingest/kafka/config.ts',
    'features/config.ts',
    'model/config.ts',
    'train/config.ts',
    'train/optim/config.ts',
    'serve/config.ts',
    'config/formats.ts',
    'config/loader.ts',
  ];

  it('section schemas sit beside their owners and do not import config/schema.ts', () => {
    const composed = src('config/schema.ts');
    for (const s of sections) {
      const imports = [...src(s).matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
      const composes = (i: string) => i.endsWith('config/schema.ts') || (i === './schema.ts' && s.startsWith('config'));
      const composing = imports.filter(composes);
      expect(composing, s).toEqual([]);
      if (!s.startsWith('config/')) expect(composed, s).toContain(`from '../${s}'`);
    }
  });
});
