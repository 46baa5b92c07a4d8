/** The custom convict formats (src/config/formats.ts): what each accepts, rejects and parses. */
import convict from 'convict';
import { describe, expect, it } from 'vitest';
import { FORMATS, oneOf, parseJsonOrKeep } from '../../../src/config/formats.ts';

const ok = (name: keyof typeof FORMATS, v: unknown) =>
  expect(() => FORMATS[name].validate(v), JSON.stringify(v)).not.toThrow();
const bad = (name: keyof typeof FORMATS, v: unknown, msg: string | RegExp) =>
  expect(() => FORMATS[name].validate(v), JSON.stringify(v)).toThrow(msg);

describe('config formats', () => {
  it('nonneg-number: a finite number >= 0', () => {
    for (const v of [0, 3e-4, 1e9]) ok('nonneg-number', v);
    for (const v of [-1e-9, Infinity, NaN, '1']) bad('nonneg-number', v, 'must be a finite number >= 0');
    expect(FORMATS['nonneg-number'].coerce('0.5')).toBe(0.5);
  });

  it('unit-interval: [0, 1)', () => {
    for (const v of [0, 0.9, 0.999]) ok('unit-interval', v);
    for (const v of [1, -0.1, NaN]) bad('unit-interval', v, 'must be a number in [0, 1)');
  });

  it('positive-int: an integer >= 1', () => {
    for (const v of [1, 4096]) ok('positive-int', v);
    for (const v of [0, -1, 1.5, '2']) bad('positive-int', v, 'must be an integer >= 1');
    expect(FORMATS['positive-int'].coerce('64')).toBe(64);
  });

  it('int-list: integers >= 1, JSON from a string', () => {
    ok('int-list', [256, 128]);
    ok('int-list', []);
    for (const v of [[0], [1.5], '256,128', 3]) bad('int-list', v, 'must be a list of integers >= 1, e.g. [256,128]');
    expect(FORMATS['int-list'].coerce('[32,16]')).toEqual([32, 16]);
    expect(FORMATS['int-list'].coerce('x')).toBe('x'); // kept, so that validate names the key
  });

  it('slot-dims: {slot: D}, D in 1..1024', () => {
    ok('slot-dims', {});
    ok('slot-dims', { C1: 1, C2: 1024 });
    for (const v of [[], null, 'x']) bad('slot-dims', v, 'must be an object {slot: D}');
    bad('slot-dims', { C3: 1025 }, 'C3: must be an integer in 1..1024, got 1025');
    bad('slot-dims', { C3: '4' }, 'C3: must be an integer in 1..1024, got "4"');
  });

  it('string-list: non-empty strings, from a JSON array or a comma-separated list', () => {
    ok('string-list', ['h1:9092']);
    const msg = /^must be a list of non-empty strings: .* e\.g\. host1:9092,host2:9092$/;
    for (const v of [[''], [1], 'h1:9092']) bad('string-list', v, msg);
    expect(FORMATS['string-list'].coerce('h1:9092, h2:9092,')).toEqual(['h1:9092', 'h2:9092']);
    expect(FORMATS['string-list'].coerce(' ["a","b"]')).toEqual(['a', 'b']);
    expect(FORMATS['string-list'].coerce(['a'])).toEqual(['a']);
  });

  it('table-overrides: {slot: {lr?, beta1?, beta2?, weightDecay?, mode?}}, naming the slot and setting', () => {
    ok('table-overrides', { C3: { lr: 0.01, beta1: 0, beta2: 0.99, weightDecay: 0, mode: 'exact' }, C4: {} });
    bad('table-overrides', [], 'must be an object {slot: {lr?, beta1?, beta2?, weightDecay?, mode?}}');
    bad('table-overrides', { C3: 1 }, 'C3: must be an object');
    bad('table-overrides', { C3: { mode: 'eager' } }, 'C3.mode must be lazy, decayed or exact');
    bad('table-overrides', { C3: { weightDecay: -1 } }, 'C3.weightDecay must be a number >= 0');
    bad('table-overrides', { C3: { beta2: 1 } }, 'C3.beta2 must be in [0, 1)');
    const msg = 'C3.momentum is not a setting (lr, beta1, beta2, weightDecay, mode)';
    bad('table-overrides', { C3: { momentum: 1 } }, msg);
  });

  it('parseJsonOrKeep parses JSON strings and keeps the rest', () => {
    expect(parseJsonOrKeep('{"a":1}')).toEqual({ a: 1 });
    expect(parseJsonOrKeep('not json')).toBe('not json');
    expect(parseJsonOrKeep(7)).toBe(7);
  });

  it('are registered with convict, and oneOf keys accept exactly their values', () => {
    const schema = {
      n: { doc: 'n', format: 'positive-int', default: 1 },
      kind: { doc: 'kind', ...oneOf(['a', 'b'], 'a') },
    };
    const c = convict(schema);
    const kind: 'a' | 'b' = c.get('kind'); // typed as the union: no cast
    expect(kind).toBe('a');
    expect(oneOf(['a', 'b'], 'b')).toEqual({ format: ['a', 'b'], default: 'b' });
    c.set('n', 0);
    expect(() => c.validate({ allowed: 'strict' })).toThrow('n: must be an integer >= 1');
    c.set('n', 2);
    c.set('kind', 'c' as never);
    expect(() => c.validate({ allowed: 'strict' })).toThrow(/kind: must be one of the possible values: \["a","b"\]/);
  });
});
