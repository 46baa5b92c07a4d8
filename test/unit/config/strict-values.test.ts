/**
 * Issue 14, "config that means what it says": every form a user may type (empty, `1e3`, `5k`,
 * `8081abc`, `0`, `no`, ...) in every source (env var, --set, config file) either means what it
 * says or is refused naming the key and the source. Run on the real lionctr schema through
 * `loadConfig`; the env var of a key is named from its path (LIONCTR_ + upper snake case).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'lionctr-strict-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `LIONCTR_` + the key's path in upper snake case. */
const envOf = (key: string) =>
  `LIONCTR_${key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/\./g, '_')
    .toUpperCase()}`;

/** A config file holding `key: value` (nested by the key's path). */
function fileWith(key: string, value: unknown): string {
  const o: Record<string, unknown> = {};
  const parts = key.split('.');
  let at = o;
  for (const p of parts.slice(0, -1)) at = at[p] = {} as Record<string, unknown>;
  at[parts[parts.length - 1]] = value;
  const f = join(dir, `${key}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, JSON.stringify(o));
  return f;
}

type Source = 'env' | '--set' | 'file';

/** The value `key` gets from `text` through `source`, or the error message. */
function load(key: string, text: string, source: Source): { value: unknown } | { error: string; from: RegExp } {
  const name = envOf(key);
  const f = source === 'file' ? fileWith(key, text) : '';
  const from =
    source === 'env' ? new RegExp(name) : source === '--set' ? /--set/ : new RegExp(f.replace(/[.]/g, '\\.'));
  if (source === 'env') process.env[name] = text;
  try {
    const cfg =
      source === 'file' ? loadConfig([f]) : source === '--set' ? loadConfig([], [`${key}=${text}`]) : loadConfig();
    const value = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], cfg);
    return { value };
  } catch (e) {
    return { error: (e as Error).message, from };
  } finally {
    delete process.env[name];
  }
}

const REFUSED = Symbol('refused');
/** [key, form typed, what it must give: a value, or REFUSED naming the key]. */
const TABLE: [string, string, unknown][] = [
  ['optim.dense.lr', '', REFUSED],
  ['optim.dense.beta1', '', REFUSED],
  ['checkpoint.intervalSeconds', '', REFUSED],
  ['export.intervalSeconds', '', REFUSED],
  ['serve.drainSeconds', '', REFUSED],
  ['checkpoint.enabled', '', REFUSED],
  ['train.batchSize', '', REFUSED],
  ['kafka.brokers', '', REFUSED],
  ['kafka.topic', '', REFUSED], // its default is not empty: empty is no topic
  ['train.auditLog', '', ''], // its default is empty: empty means off
  ['train.maxExamples', '1e3', 1000],
  ['train.batchSize', '1e3', 1000],
  ['source.limit', '1e3', 1000],
  ['train.maxExamples', '1e-3', REFUSED],
  ['train.maxExamples', '1.5', REFUSED],
  ['source.limit', '5k', REFUSED],
  ['serve.port', '8081abc', REFUSED],
  ['serve.port', '0x1f90', REFUSED],
  ['serve.port', '8081', 8081],
  ['optim.dense.lr', '3e-4', 3e-4],
  ['optim.dense.lr', 'Infinity', REFUSED],
  ['checkpoint.enabled', '0', false],
  ['checkpoint.enabled', '1', true],
  ['checkpoint.enabled', 'false', false],
  ['checkpoint.enabled', 'no', REFUSED],
  ['kafka.ssl', '0', false],
  ['kafka.ssl', 'yes', REFUSED],
  ['kafka.ssl', 'true', true],
];

describe('config values mean what they say, from every source', () => {
  for (const source of ['env', '--set', 'file'] as Source[]) {
    it.each(TABLE)(`${source}: %s = %j`, (key, text, want) => {
      const got = load(key, text, source);
      if (want === REFUSED) {
        expect(got, `${key}=${JSON.stringify(text)} should be refused`).toHaveProperty('error');
        const { error, from } = got as { error: string; from: RegExp };
        expect(error).toContain(key);
        expect(error).toMatch(from);
      } else {
        expect(got, `${key}=${JSON.stringify(text)}`).toEqual({ value: want });
      }
    });
  }

  it('a config file also takes typed JSON: 1e3 is 1000, 0 and 1 booleans, fractions refused for integers', () => {
    expect(loadConfig([fileWith('train.maxExamples', 1e3)]).train.maxExamples).toBe(1000);
    expect(loadConfig([fileWith('checkpoint.enabled', 0)]).checkpoint.enabled).toBe(false);
    expect(() => loadConfig([fileWith('checkpoint.enabled', 2)])).toThrow(/checkpoint\.enabled/);
    expect(() => loadConfig([fileWith('serve.port', 8081.5)])).toThrow(/serve\.port/);
  });
});
