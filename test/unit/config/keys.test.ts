/**
 * Every config key has one env var, named from its path (src/config/keys.ts); the former
 * irregular names are refused naming the new one; the precedence defaults < files < env <
 * --set < flags, and the origin of each value (src/config/loader.ts loadConfigLayers).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { envNameOf, schemaKeys } from '../../../src/config/keys.ts';
import { configSchema, loadConfigFrom } from '../../../src/config/schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'lionctr-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('env vars of config keys', () => {
  it('are LIONCTR_ + the path in upper snake case, one per key, all distinct', () => {
    expect(envNameOf('train.batchSize')).toBe('LIONCTR_TRAIN_BATCH_SIZE');
    expect(envNameOf('optim.dense.beta1')).toBe('LIONCTR_OPTIM_DENSE_BETA1');
    expect(envNameOf('run.restartBackoffSeconds.min')).toBe('LIONCTR_RUN_RESTART_BACKOFF_SECONDS_MIN');
    expect(envNameOf('backend')).toBe('LIONCTR_BACKEND');
    const keys = schemaKeys(configSchema);
    expect(keys.length).toBeGreaterThan(80);
    expect(new Set(keys.map((k) => k.env)).size).toBe(keys.length);
    for (const { key, env } of keys) expect(env, key).toMatch(/^LIONCTR_[A-Z0-9_]+$/);
  });

  it('every key is read from its env var (also keys that had none), the value checked and its source named', () => {
    for (const { key, env, leaf } of schemaKeys(configSchema)) {
      const text = JSON.stringify(leaf.default); // a string key's text may be quoted JSON
      const { origins } = loadConfigFrom({ env: { [env]: text } });
      expect(origins.get(key), key).toBe(`env ${env}`);
    }
    const { config } = loadConfigFrom({ env: { LIONCTR_OPTIM_DENSE_BETA1: '0.5', LIONCTR_SOURCE_EPOCHS: '3' } });
    expect([config.optim.dense.beta1, config.source.epochs]).toEqual([0.5, 3]);
  });

  it('refuses the former irregular names, naming the new one', () => {
    const former = schemaKeys(configSchema)
      .filter((k) => k.formerEnv)
      .map((k) => `${k.formerEnv} -> ${k.env}`);
    expect(former).toEqual([
      'LIONCTR_SOURCE -> LIONCTR_SOURCE_KIND',
      'LIONCTR_KAFKA_DLQ_TOPIC -> LIONCTR_KAFKA_DEAD_LETTER_TOPIC',
      'LIONCTR_EMBEDDING_DIM -> LIONCTR_SCHEMA_EMBEDDING_DIM',
      'LIONCTR_BATCH_SIZE -> LIONCTR_TRAIN_BATCH_SIZE',
      'LIONCTR_MAX_EXAMPLES -> LIONCTR_TRAIN_MAX_EXAMPLES',
      'LIONCTR_MAX_NONFINITE_STEPS -> LIONCTR_TRAIN_MAX_NONFINITE_STEPS',
      'LIONCTR_AUDIT_LOG -> LIONCTR_TRAIN_AUDIT_LOG',
      'LIONCTR_RUN_RESTART_BACKOFF_MIN_SECONDS -> LIONCTR_RUN_RESTART_BACKOFF_SECONDS_MIN',
      'LIONCTR_RUN_RESTART_BACKOFF_MAX_SECONDS -> LIONCTR_RUN_RESTART_BACKOFF_SECONDS_MAX',
    ]);
    expect(() => loadConfigFrom({ env: { LIONCTR_BATCH_SIZE: '512' } })).toThrow(
      'LIONCTR_BATCH_SIZE was renamed LIONCTR_TRAIN_BATCH_SIZE (config key train.batchSize) ' +
        '(at env LIONCTR_BATCH_SIZE)',
    );
  });
});

describe('precedence', () => {
  it('defaults < config files < env < --set < flags, each value with its origin', () => {
    const f = join(dir, 'c.json');
    writeFileSync(f, JSON.stringify({ train: { batchSize: 10, maxExamples: 10 }, source: { limit: 10 } }));
    const env = { LIONCTR_TRAIN_BATCH_SIZE: '20', LIONCTR_TRAIN_MAX_EXAMPLES: '20', LIONCTR_SOURCE_LIMIT: '20' };
    const sets = ['train.batchSize=30', 'train.maxExamples=30'];
    const flags = [{ set: 'train.batchSize=40', flag: '--batch' }];
    const { config, origins } = loadConfigFrom({ files: [f], env, sets, flags });
    expect([config.train.batchSize, config.train.maxExamples, config.source.limit]).toEqual([40, 30, 20]);
    expect(origins.get('train.batchSize')).toBe('--batch');
    expect(origins.get('train.maxExamples')).toBe('--set');
    expect(origins.get('source.limit')).toBe('env LIONCTR_SOURCE_LIMIT');
    expect(origins.get('source.epochs')).toBeUndefined(); // a default
    const fromFile = loadConfigFrom({ files: [f], env: {} });
    expect(fromFile.origins.get('source.limit')).toBe(f);
  });

  it('a value refused at validation names its source', () => {
    expect(() => loadConfigFrom({ env: { LIONCTR_TRAIN_BATCH_SIZE: '0' } })).toThrow(
      /train\.batchSize: must be an integer >= 1 \(from env LIONCTR_TRAIN_BATCH_SIZE\)/,
    );
    expect(() => loadConfigFrom({ env: {}, flags: [{ set: 'train.batchSize=1.5', flag: '--batch' }] })).toThrow(
      /train\.batchSize: must be an integer >= 1: value was 1\.5 \(from --batch\)/,
    );
  });
});
