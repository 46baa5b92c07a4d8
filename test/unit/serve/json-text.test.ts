/**
 * The pre-written JSON of the scoring routes (src/serve/json-text.ts) is JSON.stringify's text
 * byte for byte, and the remembered route parse (cachedApiPath) answers as parseApiPath does,
 * errors included, without keeping the paths that fail.
 */
import { describe, expect, it } from 'vitest';
import { numbersUnder } from '../../../src/serve/json-text.ts';
import { cachedApiPath, parseApiPath } from '../../../src/serve/tfs-paths.ts';

describe('numbersUnder', () => {
  it('writes what JSON.stringify writes, for every kind of finite float', () => {
    const xs = [0, -0, 1, 0.5, 0.1 + 0.2, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, -2.5e-10, 0.9999999403953552];
    for (const key of ['predictions', 'outputs'])
      for (const v of [[], [0.25], xs, new Float32Array([0.1, 0.7, 1e-30])]) {
        const ref = JSON.stringify({ [key]: Array.from(v) });
        const got = numbersUnder(key, v);
        expect(got.text).toBe(ref);
        expect(got.value()).toEqual(JSON.parse(ref));
      }
  });
});

describe('cachedApiPath', () => {
  it('answers as parseApiPath, the same frozen route again for the same request', () => {
    const paths: [string, string][] = [
      ['POST', '/v1/models/ctr:predict'],
      ['POST', '/v1/models/ctr/versions/007:classify'],
      ['POST', '/v1/models/c%20tr/labels/st%41ble:regress'],
      ['GET', '/v1/models/ctr/metadata'],
      ['HEAD', '/V1/MODELS/ctr'],
      ['GET', '/v1/lionctr/models/ctr'],
    ];
    for (const [m, p] of paths) {
      const r = cachedApiPath(m, p);
      expect(r).toEqual(parseApiPath(m, p));
      expect(cachedApiPath(m, p)).toBe(r);
      expect(Object.isFrozen(r)).toBe(true);
    }
    // the method is part of the key
    expect(cachedApiPath('GET', '/v1/models/ctr')).toEqual({ kind: 'status', name: 'ctr' });
    expect(() => cachedApiPath('POST', '/v1/models/ctr')).toThrow(/Malformed request: POST \/v1\/models\/ctr/);
  });

  it('throws what parseApiPath throws, each time, and stays bounded over many paths', () => {
    for (let i = 0; i < 2; i++) {
      expect(() => cachedApiPath('GET', '/v1/models/ctr:predict')).toThrow(/Malformed request: GET/);
      expect(() => cachedApiPath('POST', '/v1/models/ctr/versions/99999999999999999999:predict')).toThrow(
        /Failed to convert version: 99999999999999999999 to numeric\./,
      );
      expect(() => cachedApiPath('POST', '/v1/models/ctr:Predict')).toThrow(/Malformed request/);
    }
    for (let i = 0; i < 1000; i++)
      expect(cachedApiPath('POST', `/v1/models/m${i}:predict`)).toEqual({ kind: 'predict', name: `m${i}` });
  });
});
