import { describe, expect, it } from 'vitest';
import { criteoSlots } from '../../../src/features/schema.ts';
import { bigIntegerLiterals, parseJsonBody, parseNonFinite, slotKinds } from '../../../src/serve/json-body.ts';
import { jsonDebugString } from '../../../src/serve/json-debug.ts';
import { exampleRows } from '../../../src/serve/json-examples.ts';
import { predictRows } from '../../../src/serve/json-tensor.ts';
import { parseApiPath, routeLabel } from '../../../src/serve/tfs-paths.ts';

describe("TF Serving's JsonValueToDebugString (rapidjson PrettyWriter, single-line arrays, 256 bytes)", () => {
  it('writes objects indented by 4, arrays on one line, strings escaped as rapidjson does', () => {
    expect(jsonDebugString({ instances: [] })).toBe('{\n    "instances": []\n}');
    expect(jsonDebugString([1, 2.5, 'a', null, true])).toBe('[1, 2.5, "a", null, true]');
    expect(jsonDebugString({ a: { b: [{ c: 1 }] }, d: {} })).toBe(
      '{\n    "a": {\n        "b": [{\n                "c": 1\n            }]\n    },\n    "d": {}\n}',
    );
    expect(jsonDebugString('q"\\/\n\u0001é')).toBe('"q\\"\\\\/\\n\\u0001é"');
    expect(jsonDebugString(1e21)).toBe('1e21');
  });

  it('stops at the first value written once 256 bytes are out (the cut may leave invalid JSON)', () => {
    const s = jsonDebugString({ instances: Array.from({ length: 200 }, (_, i) => i) });
    expect(s.length).toBeGreaterThanOrEqual(256);
    expect(s.length).toBeLessThan(260);
    expect(s.startsWith('{\n    "instances": [0, 1, 2,')).toBe(true);
    expect(s.endsWith(']')).toBe(false);
  });
});

describe("TF Serving's URL grammar (http_rest_api_util.cc)", () => {
  it('parses versions and labels, case-insensitively but with the verb as written', () => {
    expect(parseApiPath('POST', '/V1/Models/ctr/VERSIONS/0042:predict')).toEqual({
      kind: 'predict',
      name: 'ctr',
      version: '42',
    });
    expect(parseApiPath('GET', '/v1/models/c%74r/labels/can%61ry/metadata')).toEqual({
      kind: 'metadata',
      name: 'ctr',
      label: 'canary',
    });
    expect(parseApiPath('GET', '/v1/models/ctr/METADATA')).toMatchObject({ kind: 'status' });
    expect(() => parseApiPath('POST', '/v1/models/ctr:PREDICT')).toThrow(
      'Malformed request: POST /v1/models/ctr:PREDICT',
    );
    expect(parseApiPath('GET', '/v1/lionctr/models/ctr')).toEqual({ kind: 'extras', name: 'ctr' });
  });

  it("answers TF Serving's messages for paths it does not take", () => {
    const err = (m: string, p: string) => {
      try {
        parseApiPath(m, p);
      } catch (e) {
        return { status: (e as { status: number }).status, error: (e as { tfsMessage: string }).tfsMessage };
      }
      throw new Error('parsed');
    };
    expect(err('GET', '/v1/models')).toEqual({ status: 400, error: 'Missing model name in request.' });
    expect(err('GET', '/v1/foo')).toEqual({ status: 400, error: 'Malformed request: GET /v1/foo' });
    expect(err('POST', '/v1/models/ctr/versions/50/labels/x:regress').status).toBe(400);
    expect(err('POST', '/v1/models/ctr/versions/9223372036854775808:predict')).toEqual({
      status: 400,
      error: 'Failed to convert version: 9223372036854775808 to numeric.',
    });
    expect(err('GET', '/v1/models/ctr:predict')).toEqual({
      status: 405,
      error: 'Malformed request: GET /v1/models/ctr:predict',
    });
    expect(err('DELETE', '/v1/models/ctr')).toEqual({ status: 405, error: 'Malformed request: DELETE /v1/models/ctr' });
    expect(routeLabel('/v1/models/ctr:classify')).toBe('classify');
    expect(routeLabel('/v1/models/ctr/versions/1/metadata')).toBe('metadata');
    expect(routeLabel('/v1/nothing')).toBe('unknown');
  });
});

describe('request bodies as lionctr instances', () => {
  const kinds = slotKinds({ ...criteoSlots(), embeddingDim: 4 });

  it('turns columns into rows and merges the classify context into every example', () => {
    expect(predictRows({ inputs: { C1: ['a', 'b'], I1: [1, 2] } }, kinds).rows).toEqual([
      { C1: 'a', I1: 1 },
      { C1: 'b', I1: 2 },
    ]);
    const { rows, where } = exampleRows({ context: { C2: 'x' }, examples: [{ C1: ['a'] }, { C2: 'y', I1: 3 }] }, kinds);
    expect(rows).toEqual([
      { C2: 'x', C1: 'a' },
      { C2: 'y', I1: 3 },
    ]);
    expect(where(1)).toBe('examples[1]');
  });

  it('decodes {"b64": ...} in a categorical slot to its text, in rows, columns and examples (DT_STRING)', () => {
    const b64 = (t: string) => ({ b64: Buffer.from(t, 'utf8').toString('base64') });
    expect(predictRows({ instances: [{ C1: b64('a1é'), C2: 'x', I1: 2 }] }, kinds).rows).toEqual([
      { C1: 'a1é', C2: 'x', I1: 2 },
    ]);
    expect(predictRows({ inputs: { C1: [b64('ab'), 'c', { b64: '' }] } }, kinds).rows).toEqual([
      { C1: 'ab' },
      { C1: 'c' },
      { C1: '' },
    ]);
    // padding is optional (absl::Base64Unescape): "YWJj" "YWI" "YQ" = abc ab a
    expect(predictRows({ inputs: { C1: [{ b64: 'YWJj' }, { b64: 'YWI' }, { b64: 'YQ' }] } }, kinds).rows).toEqual([
      { C1: 'abc' },
      { C1: 'ab' },
      { C1: 'a' },
    ]);
    expect(exampleRows({ context: { C2: b64('ctx') }, examples: [{ C1: [b64('e')] }] }, kinds).rows).toEqual([
      { C2: 'ctx', C1: 'e' },
    ]);
  });

  it('refuses a b64 value that is malformed, not base64, not UTF-8 or in a numeric slot, in TF Serving words', () => {
    const msg = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return `${(e as { where: string }).where}: ${(e as { tfsMessage: string }).tfsMessage}`;
      }
      return 'no error';
    };
    const one = (v: unknown) => msg(() => predictRows({ instances: [{ C1: v }] }, kinds));
    const wrap = "instances[0].C1: Failed to process element: 0 key: C1 of 'instances' list. Error: INVALID_ARGUMENT: ";
    expect(one({ b64: 'a$==' })).toBe(`${wrap}Unable to base64 decode`);
    expect(one({ b64: 'Y' })).toBe(`${wrap}Unable to base64 decode`);
    expect(one({ b64: 1 })).toBe(`${wrap}JSON Value: {\n    "b64": 1\n} not formatted correctly for base64 data`);
    expect(one({ b64: 'YQ==', x: 1 })).toMatch(/not formatted correctly for base64 data$/);
    // 0xff 0xfe: not UTF-8
    expect(one({ b64: '//4=' })).toMatch(/decodes to bytes that are not UTF-8: lionctr's categorical slots take text$/);
    expect(msg(() => predictRows({ inputs: { I1: [{ b64: 'MQ==' }] } }, kinds))).toMatch(
      /^inputs\.I1\[0\]: JSON Value: \{\n {4}"b64": "MQ=="\n\} Type: Object is not of expected type: float$/,
    );
    // a list is no base64 value: TF Serving's TypeError, as before b64 was read
    expect(one(['a'])).toBe(`${wrap}JSON Value: ["a"] Type: Array is not of expected type: string`);
    expect(msg(() => predictRows({ inputs: { C1: [['a']] } }, kinds))).toBe(
      'inputs.C1[0]: JSON Value: ["a"] Type: Array is not of expected type: string',
    );
    expect(msg(() => exampleRows({ examples: [{ C1: { b64: '!' } }] }, kinds))).toBe(
      'examples[0].C1: Unable to base64 decode',
    );
  });

  it('names the faults TF Serving has no words for, with where', () => {
    const fault = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return `${(e as { where: string }).where}: ${(e as Error).message}`;
      }
      return 'no error';
    };
    expect(fault(() => predictRows({ inputs: { C1: ['a'], I1: [1, 2] } }, kinds))).toMatch(
      /^inputs\.I1: inputs\.I1 has 2 values but inputs\.C1 has 1/,
    );
    expect(fault(() => predictRows({ inputs: { C1: 'a' } }, kinds))).toMatch(/^inputs\.C1: .*must be a list/);
    expect(fault(() => exampleRows({ examples: [{ C1: ['a', 'b'] }] }, kinds))).toMatch(
      /^examples\[0\]\.C1: Feature: C1 has 2 values/,
    );
    expect(fault(() => exampleRows({ examples: [{ C99: 'a' }] }, kinds))).toMatch(
      /^examples\[0\]\.C99: JSON object: does not have named input: C99/,
    );
    expect(fault(() => predictRows({ instances: Array.from({ length: 10_001 }, () => ({})) }, kinds))).toMatch(
      /^instances: too many instances: 10001 > 10000/,
    );
  });
});

describe("rapidjson's reading of numbers (json_tensor.cc ParseJson, IsLosslessDecimal<float>)", () => {
  it('reads NaN, Inf, Infinity (with a minus too) where a value stands, not inside strings', () => {
    expect(parseJsonBody('{"a": [NaN, -NaN, Inf, -Inf, Infinity, -Infinity, 1]}').a).toEqual([
      Number.NaN,
      Number.NaN,
      Infinity,
      -Infinity,
      Infinity,
      -Infinity,
      1,
    ]);
    expect(parseJsonBody('{"NaN": "Infinity \\" NaN", "b": NaN}')).toEqual({ NaN: 'Infinity " NaN', b: Number.NaN });
    // not JSON with them either: JSON.parse's error (V8's words)
    for (const bad of ['{"a": Infi}', '{"a": nan}', '{"a": NaNa}', '{"a": +Inf}', '{"a": "\\u0000n", "b": NaN}'])
      expect(() => parseJsonBody(bad), bad).toThrow(/^JSON Parse error: /);
    expect(parseNonFinite('{"a": 1}')).toBeUndefined();
  });

  it('refuses content after the document with rapidjson words and byte offset', () => {
    expect(() => parseJsonBody('{"a": "é"} {}')).toThrow(
      'JSON Parse error: The document root must not be followed by other values. at offset: 12',
    );
    expect(parseJsonBody('{"a": 1} \n\t ')).toEqual({ a: 1 });
  });

  it('knows the integer literals a float cannot hold, outside strings, within int64/uint64', () => {
    expect(bigIntegerLiterals('{"a": [16777215, 1.5, "12345678"]}')).toBeUndefined();
    const got = bigIntegerLiterals(
      '{"a": [16777216, -16777217, 16777218.0, 2e10, 18446744073709551616, "99999999"], "k99999999": 123456789}',
    );
    expect(got && [...got.values()].sort()).toEqual(['-16777217', '123456789', '16777216']);
    const kinds = new Map([['I1', 'numeric' as const]]);
    const fault = (text: string) => {
      try {
        predictRows(parseJsonBody(text), kinds);
        return undefined;
      } catch (e) {
        return (e as { tfsMessage: string }).tfsMessage;
      }
    };
    expect(fault('{"inputs": {"I1": [16777215, 16777216.0, 3.4e38, 18446744073709551616]}}')).toBeUndefined();
    expect(fault('{"inputs": {"I1": [9007199254740993]}}')).toBe(
      'Cannot convert JSON value: 9007199254740993 to float without loss of precision.',
    );
    expect(fault('{"inputs": {"I1": [-3.5e38]}}')).toBe(
      'Cannot convert JSON value: -3.5e38 to float without loss of precision.',
    );
  });
});
