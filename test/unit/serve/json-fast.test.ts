/**
 * The fast path of predict bodies (src/serve/json-fast.ts) against the slow path it stands in
 * for (JSON.parse, json-tensor.ts predictRows, Featurizer.fromInstances), on the same bodies:
 * whenever the fast path takes a body, the slow path takes it too and gives the same features
 * (ids and dense inputs, bit for bit); common bodies take the fast path; bodies with escapes,
 * other keys, nested or boolean values, unknown slots, values the slow path refuses, or bad JSON
 * are left to the slow path.
 */
import { describe, expect, it } from 'vitest';
import { Featurizer } from '../../../src/features/featurizer.ts';
import type { FeatureBatch } from '../../../src/features/feature-batch.ts';
import { slotKinds } from '../../../src/serve/json-body.ts';
import { featurizeScan, scanInstances } from '../../../src/serve/json-fast.ts';
import { predictRows } from '../../../src/serve/json-tensor.ts';
import { mulberry32 } from '../../helpers/prng.ts';

const schema = { numeric: ['I1', 'I2'], categorical: ['C1', 'C2', 'C3'], embeddingDim: 4 };
const featurizer = new Featurizer(schema);

/** The slow path's features, or undefined when it refuses the body. */
function slow(text: string): FeatureBatch | undefined {
  try {
    const doc = JSON.parse(text);
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || 'signature_name' in doc) return undefined;
    return new Featurizer(schema).fromInstances(predictRows(doc, slotKinds(schema)).rows);
  } catch {
    return undefined;
  }
}

function fast(text: string): FeatureBatch | undefined {
  const scan = scanInstances(text);
  return scan && featurizeScan(scan, text, featurizer);
}

const same = (a: FeatureBatch, b: FeatureBatch) => {
  expect(a.size).toBe(b.size);
  expect([...a.idHi]).toEqual([...b.idHi]);
  expect([...a.idLo]).toEqual([...b.idLo]);
  expect([...a.dense]).toEqual([...b.dense]);
  expect([...a.weights]).toEqual([...b.weights]);
  expect([...a.offsets]).toEqual([...b.offsets]);
};

describe('predict fast path', () => {
  it('takes common bodies and gives the features the slow path gives', () => {
    const bodies = [
      '{"instances":[{"C1":"a","C2":"b","C3":"c","I1":1,"I2":2.5}]}',
      ' { "instances" : [ { "I2" : -0 , "C1" : "x y" } , {} , {"C3":null,"I1":7,"C2":""} ] } \n',
      '{"instances":[{"C1":"1.50","I1":1e3,"I2":-1234567.5},{"C1":"é\u2028😀","I1":5,"I2":0.000001}]}',
      '{"instances":[{"C1":"a","C1":"b","I1":3}]}', // a key twice: the last value, as JSON.parse
      '{"instances":[{"C2":"123456789","I1":2E+2,"I2":-1.5e-3},{"I2":16777215}]}',
    ];
    for (const text of bodies) {
      const want = slow(text);
      const got = fast(text);
      expect(want, text).toBeDefined();
      expect(got, text).toBeDefined();
      same(got as FeatureBatch, want as FeatureBatch);
    }
  });

  it('leaves every other body to the slow path', () => {
    const bodies = [
      '{"instances":[{"C1":"a\\"b"}]}', // escape
      '{"instances":[{"C1":"a"}],"signature_name":"serving_default"}',
      '{"signature_name":"","instances":[{"C1":"a"}]}',
      '{"instances":[{"C1":["a"]}]}',
      '{"instances":[{"C1":{"b64":"AA=="}}]}',
      '{"instances":[{"b64":"AA=="}]}',
      '{"instances":[{"C1":true}]}',
      '{"instances":[{"C9":"a"}]}', // unknown slot
      '{"instances":[{"I1":"abc"}]}', // refused value
      '{"instances":[{"I1":"7"}]}', // a numeric slot takes JSON numbers only (TF Serving's DT_FLOAT)
      '{"instances":[{"I1":""}]}',
      '{"instances":[{"I1":1e400}]}',
      '{"instances":[{"C1":1}]}', // a categorical slot takes strings only (TF Serving's DT_STRING)
      '{"instances":[{"I1":16777216}]}', // more than a float holds exactly: the slow path decides
      '{"instances":[{"I1":NaN}]}',
      '{"instances":[]}',
      '{"instances":[{"C1":"a"},]}',
      '{"instances":[{"C1":"a"}]} x',
      '{"instances":[{"C1":"a"}]',
      '{"instances":[{"C1":01}]}',
      '{"instances":[{"C1":1.}]}',
      '{"instances":[{"C1":"a\tb"}]}',
      '{"inputs":{"C1":["a"]}}',
      '[{"C1":"a"}]',
      '',
    ];
    for (const text of bodies) expect(fast(text), text).toBeUndefined();
  });

  it('gives the same features the second time (ids from the text cache), values that share a prefix apart', () => {
    const text = '{"instances":[{"C1":"v1","C2":"v12","C3":"é"},{"C1":"v12","C2":"v1","C3":""},{"C1":"v1"}]}';
    const want = slow(text) as FeatureBatch;
    for (let k = 0; k < 3; k++) same(fast(text) as FeatureBatch, want);
  });

  it('agrees with the slow path on 3000 random bodies', () => {
    const r = mulberry32(11);
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
    const keys = ['C1', 'C2', 'C3', 'I1', 'I2', 'C9', 'b64'];
    const values = ['"v1"', '"v2"', '""', 'null', '0', '-0', '7', '2.5', '1e2', '-3', '"12"', '" 4 "', '"x"', 'true'];
    const ws = ['', ' ', '\n', '\t '];
    let taken = 0;
    for (let k = 0; k < 3000; k++) {
      const pair = () => `${pick(ws)}"${pick(keys)}"${pick(ws)}:${pick(ws)}${pick(values)}`;
      const inst = () => `{${Array.from({ length: Math.floor(r() * 6) }, pair).join(',')}}`;
      const list = Array.from({ length: 1 + Math.floor(r() * 3) }, inst).join(`,${pick(ws)}`);
      const text = `{${pick(ws)}"instances":[${list}]}`;
      const got = fast(text);
      if (!got) continue;
      taken++;
      const want = slow(text);
      expect(want, text).toBeDefined();
      same(got, want as FeatureBatch);
    }
    expect(taken).toBeGreaterThan(100);
  });
});
